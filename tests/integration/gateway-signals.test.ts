/**
 * The gateway as a real process (run-server) under load, stopped the three
 * ways an operator stops it. Whatever the signal, no process may survive it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Client, type RunSummary } from '../../dist/index.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { childPids, expectAllGone, freePort, startCli, waitFor, type RunningCli } from '../helpers/processes.js'

let files: Fixtures
let server: RunningCli | undefined
let tracked: number[] = []

beforeEach(async () => {
  files = await fixtures()
  tracked = []
})

afterEach(async () => {
  if (server !== undefined) tracked.push(server.pid)
  await expectAllGone(tracked, 5000)
  server = undefined
  await files.remove()
})

/** Starts run-server in its own process group with 2 workers busy on 0.8 s commands, and a client loading it. */
async function startLoaded(): Promise<{ run: Promise<RunSummary>; client: Client; pids: number[] }> {
  const { commands, map } = await files.seed(256, 0.8)
  const port = await freePort()
  server = startCli('run-server', [map, `tcp://127.0.0.1:${port}`, 'tcp://127.0.0.1:5556', '2', '--min-workers', '2', '--capacity', '2', '--grace', '3000', '--log-level', 'info'], { detached: true })
  await waitFor(() => server!.stdout().includes('listening'), 'run-server to listen')
  const client = new Client({ servers: [`tcp://127.0.0.1:${port}`], bind: 'tcp://127.0.0.1:*', batchSize: 8, sendRetries: 1, retryDelayMs: 100, resultTimeoutMs: 5000, maxResends: 0 })
  const run = client.run(commands)
  const gatewayPid = server.pid
  // Both workers said ready and batches are out: the ready handler dispatches at once.
  await waitFor(
    () => (server!.stderr().match(/worker ready/g) ?? []).length >= 2 && client.progress.inFlight >= 4,
    'two workers busy',
  )
  const pids = [gatewayPid, ...childPids(gatewayPid)]
  tracked = pids
  return { run, client, pids }
}

describe('when Ctrl+C reaches the gateway\'s whole process group under load', () => {
  it('delivers the batches that were running, exits 0, and leaves no process within 3 s', async () => {
    const { run, pids } = await startLoaded()
    const started = Date.now()
    process.kill(-server!.pid, 'SIGINT')
    const { code } = await server!.exited
    await expectAllGone(pids, 3000)
    expect(Date.now() - started).toBeLessThan(3000)
    expect(code).toBe(0)
    const summary = await run
    // 2 workers × capacity 2 × 8 commands were running: they must have arrived.
    expect(summary.counts.ok).toBeGreaterThanOrEqual(32)
    expect(summary.counts.ok + summary.counts.lost).toBe(summary.commands)
    expect(server!.stdout()).toMatch(/served \d+ batches/)
  })
})

describe('Ctrl+C to the group, run after run', () => {
  it('three runs in a row: each leaves no process within grace + 1 s, and every batch that was running reaches its client', async () => {
    for (let round = 1; round <= 3; round++) {
      const { run, pids } = await startLoaded()
      const started = Date.now()
      process.kill(-server!.pid, 'SIGINT')
      await expectAllGone(pids, 4000) // --grace 3000 + 1 s
      expect(Date.now() - started, `round ${round}`).toBeLessThan(4000)
      const summary = await run
      // Queued batches are rejected shutting-down (resends are off here); none that was running is lost.
      expect(summary.lostBatches.noResult, `round ${round}`).toBe(0)
      expect(summary.counts.lost, `round ${round}`).toBe(8 * (summary.lostBatches.rejected['shutting-down'] ?? 0))
      expect(summary.counts.ok, `round ${round}`).toBeGreaterThanOrEqual(32)
      server = undefined
      await files.remove()
      files = await fixtures()
    }
  })
})

describe('when the gateway gets SIGTERM under load', () => {
  it('shuts down gracefully and leaves no process within 3 s', async () => {
    const { run, pids } = await startLoaded()
    process.kill(server!.pid, 'SIGTERM')
    const { code } = await server!.exited
    expect(code).toBe(0)
    await expectAllGone(pids, 3000)
    const summary = await run
    expect(summary.counts.ok).toBeGreaterThanOrEqual(32)
  })
})

describe('when the gateway is SIGKILLed under load', () => {
  it('its workers notice and exit within 1 s, leaving no process', async () => {
    const { run, client, pids } = await startLoaded()
    process.kill(server!.pid, 'SIGKILL')
    await server!.exited
    const killedAt = Date.now()
    await expectAllGone(pids, 3000)
    expect(Date.now() - killedAt).toBeLessThan(1500)
    await client.interrupt()
    const summary = await run
    expect(summary.exitCode).toBe(130)
  })
})

describe('when a second Ctrl+C arrives during the graceful shutdown', () => {
  it('kills the workers at once and exits 130', async () => {
    const { run, client, pids } = await startLoaded()
    process.kill(-server!.pid, 'SIGINT')
    await waitFor(() => server!.stderr().includes('shutting down'), 'shutdown to begin')
    process.kill(-server!.pid, 'SIGINT')
    const { code } = await server!.exited
    expect(code).toBe(130)
    await expectAllGone(pids, 2000)
    await client.interrupt()
    await run
  })
})

describe('when the gateway is killed and restarted on the same endpoint mid-run', () => {
  it('the client resends what went unanswered and finishes with nothing lost, and no process of the first gateway is left', async () => {
    const { commands, map } = await files.seed(160, 0.3)
    const port = await freePort()
    const serverArgs = [map, `tcp://127.0.0.1:${port}`, 'x', '2', '--min-workers', '2', '--capacity', '2', '--log-level', 'warn']
    const first = startCli('run-server', serverArgs)
    await waitFor(() => first.stdout().includes('listening'), 'the first gateway to listen')
    const client = new Client({ servers: [`tcp://127.0.0.1:${port}`], bind: 'tcp://127.0.0.1:*', batchSize: 8, resultTimeoutMs: 1500, maxResends: 5 })
    const run = client.run(commands)
    await waitFor(() => client.progress.finished >= 16 && client.progress.inFlight >= 4, 'results from the first gateway and batches in flight')
    const firstPids = [first.pid, ...childPids(first.pid)]
    tracked.push(...firstPids)
    process.kill(first.pid, 'SIGKILL')
    await expectAllGone(firstPids, 3000) // its workers notice the gateway is gone
    server = startCli('run-server', serverArgs)
    await waitFor(() => server!.stdout().includes('listening'), 'the second gateway to listen')
    const summary = await run
    expect(summary.counts).toEqual({ ok: 160, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 })
    expect(summary.resends).toBeGreaterThan(0)
    const secondPids = [server.pid, ...childPids(server.pid)]
    tracked.push(...secondPids)
    process.kill(server.pid, 'SIGTERM')
    await expectAllGone(secondPids, 5000)
  })
})

describe('a client spreading its batches over two gateways, one of which dies mid-run', () => {
  it('resends what the dead one held through the other and finishes with nothing lost', async () => {
    const { commands, map } = await files.seed(256, 0.2)
    // Capacity 1: most of each gateway's share waits in its queue, and dies with it.
    const serverArgs = (port: number): string[] => [map, `tcp://127.0.0.1:${port}`, 'x', '2', '--min-workers', '2', '--capacity', '1', '--log-level', 'warn']
    const [portA, portB] = [await freePort(), await freePort()]
    const a = startCli('run-server', serverArgs(portA))
    tracked.push(a.pid)
    server = startCli('run-server', serverArgs(portB))
    await waitFor(() => a.stdout().includes('listening') && server!.stdout().includes('listening'), 'both gateways to listen')
    const client = new Client({
      servers: [`tcp://127.0.0.1:${portA}`, `tcp://127.0.0.1:${portB}`],
      bind: 'tcp://127.0.0.1:*',
      batchSize: 8,
      resultTimeoutMs: 1500,
      maxResends: 5,
    })
    const run = client.run(commands)
    await waitFor(() => client.progress.finished >= 16 && client.progress.inFlight >= 16, 'both gateways busy with batches queued')
    const pidsA = [a.pid, ...childPids(a.pid)]
    tracked.push(...pidsA)
    process.kill(a.pid, 'SIGKILL')
    const summary = await run
    expect(summary.counts).toEqual({ ok: 256, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 })
    expect(summary.resends).toBeGreaterThan(0)
    await expectAllGone(pidsA, 3000)
    const pidsB = [server.pid, ...childPids(server.pid)]
    tracked.push(...pidsB)
    process.kill(server.pid, 'SIGTERM')
    await expectAllGone(pidsB, 5000)
  })
})
