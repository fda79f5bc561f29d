/**
 * No plugin outlives the worker that ran it (checks.md: "No process or socket
 * outlives its command"), however the worker is stopped: a gateway whose
 * grace runs out, a forced close (a second Ctrl+C), a worker whose gateway is
 * gone, a second SIGTERM to run-worker, even a SIGKILL of run-worker. Plugins
 * run in their own session, so a worker that dies without killing them would
 * leave them running; its plugin host (plugin-host.ts) kills them when the
 * worker is gone.
 */
import { chmodSync, readdirSync, readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Client, Gateway } from '../../dist/index.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { ROOT, childPids, expectAllGone, groupMembers, startCli, waitFor, type RunningCli } from '../helpers/processes.js'

const PLUGINS = `${ROOT}tests/fixtures/plugins/`

let files: Fixtures
let marker: string
let gateways: Gateway[] = []
let clis: RunningCli[] = []
let clients: { client: Client; run: Promise<unknown> }[] = []

beforeEach(async () => {
  files = await fixtures()
  // Every plugin of this test carries it on its command line, wherever it was reparented to.
  marker = `--marker=${files.dir}`
  gateways = []
  clis = []
  clients = []
})

afterEach(async () => {
  const left = pluginGroups()
  for (const pgid of left) process.kill(-pgid, 'SIGKILL')
  for (const cli of clis) if (cli.child.exitCode === null) cli.child.kill('SIGKILL')
  for (const { client, run } of clients) {
    await client.interrupt()
    await run
  }
  await Promise.all(gateways.map((gateway) => gateway.close({ force: true })))
  await waitFor(() => childPids(process.pid).length === 0, 'every child process of the test to be gone', 5000)
  await files.remove()
})

/** Process groups led by a plugin of this test, anywhere on the machine. */
function pluginGroups(): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(marker)) found.push(Number(entry))
    } catch {
      // gone while we looked
    }
  }
  return found
}

/** Every live process of the plugins' groups. */
function pluginProcesses(): number[] {
  return pluginGroups().flatMap((pgid) => groupMembers(pgid))
}

/** A client running `count` commands of the check `long`, left waiting: what matters is what the stop leaves. */
function submit(endpoint: string, count: number): void {
  const client = new Client({ servers: [endpoint], bind: 'tcp://127.0.0.1:*', batchSize: 1, resultTimeoutMs: 60_000, abortGraceMs: 0 })
  const commands = Array.from({ length: count }, (_, k) => ({ address: `127.0.0.${k + 1}`, command: 'long' }))
  clients.push({ client, run: client.run(commands).catch(() => undefined) })
}

async function checksFile(plugin: string): Promise<string> {
  return files.write('checks.toml', ['targets = ["127.0.0.0/8"]', '[check.long]', `exec = ["${PLUGINS}${plugin}", "{address}", "${marker}"]`, 'timeout = "60s"'])
}

async function gatewayRunning(plugin: string, count: number, graceMs: number): Promise<{ gateway: Gateway; running: number[] }> {
  const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', checksFile: await checksFile(plugin), minWorkers: 1, maxWorkers: 1, heartbeatIntervalMs: 200, graceMs })
  gateways.push(gateway)
  await gateway.start()
  submit(gateway.endpoint, count)
  await waitFor(() => pluginGroups().length === count, `${count} plugins to run`)
  await waitFor(() => pluginProcesses().length === 2 * count, 'their sleeps to start')
  return { gateway, running: pluginProcesses() }
}

describe('plugins running when their worker is stopped', () => {
  it.each(['sleeper.sh', 'ignore-term.sh'])('a gateway whose grace runs out leaves no %s behind', async (plugin) => {
    const { gateway, running } = await gatewayRunning(plugin, 2, 300)
    await gateway.close()
    await expectAllGone(running, 3000)
  })

  it.each(['sleeper.sh', 'ignore-term.sh'])('a forced gateway close (a second Ctrl+C) leaves no %s behind', async (plugin) => {
    const { gateway, running } = await gatewayRunning(plugin, 2, 60_000)
    await gateway.close({ force: true })
    await expectAllGone(running, 3000)
  })

  it('run-server SIGKILLed: its worker sees the gateway gone and leaves no plugin that ignores SIGTERM behind', async () => {
    const server = startCli('run-server', ['-b', 'tcp://127.0.0.1:*', '--checks', await checksFile('ignore-term.sh'), '-w', '1'])
    clis.push(server)
    await waitFor(() => server.stdout().includes('listening '), 'run-server to print its endpoint')
    const endpoint = /listening (\S+)/.exec(server.stdout())![1]!
    submit(endpoint, 1)
    await waitFor(() => pluginProcesses().length === 2, 'the plugin and its sleep to run')
    const running = pluginProcesses()
    server.child.kill('SIGKILL')
    await expectAllGone(running, 3000)
  })
})

describe('run-worker stopped by force (a second SIGTERM)', () => {
  it('leaves no plugin that ignores SIGTERM behind', async () => {
    const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', workersBind: 'tcp://127.0.0.1:*', maxWorkers: 0, heartbeatIntervalMs: 200 })
    gateways.push(gateway)
    await gateway.start()
    const worker = startCli('run-worker', ['--gateway', gateway.workersEndpoint!, '--checks', await checksFile('ignore-term.sh')])
    clis.push(worker)
    await waitFor(() => gateway.connectedWorkers === 1, 'run-worker to join')
    submit(gateway.endpoint, 1)
    await waitFor(() => pluginProcesses().length === 2, 'the plugin and its sleep to run')
    const running = pluginProcesses()
    worker.child.kill('SIGTERM')
    await waitFor(() => /stopping/.test(worker.stdout() + worker.stderr()), 'run-worker to begin stopping')
    worker.child.kill('SIGTERM')
    await worker.exited
    await expectAllGone(running, 3000)
  })
})

describe('run-worker SIGKILLed (nothing of it runs to clean up)', () => {
  it('leaves no plugin that ignores SIGTERM behind: its plugin host sees its stdin close and kills them, then exits', async () => {
    const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', workersBind: 'tcp://127.0.0.1:*', maxWorkers: 0, heartbeatIntervalMs: 200 })
    gateways.push(gateway)
    await gateway.start()
    const worker = startCli('run-worker', ['--gateway', gateway.workersEndpoint!, '--checks', await checksFile('ignore-term.sh')])
    clis.push(worker)
    await waitFor(() => gateway.connectedWorkers === 1, 'run-worker to join')
    submit(gateway.endpoint, 2)
    await waitFor(() => pluginProcesses().length === 4, 'the plugins and their sleeps to run')
    const running = pluginProcesses()
    const hosts = childPids(worker.child.pid!).filter((pid) => !running.includes(pid))
    expect(hosts).toHaveLength(1)
    worker.child.kill('SIGKILL')
    await worker.exited
    await expectAllGone([...running, ...hosts], 3000)
  })
})

it('finds the plugins it looks for (the helper is not blind)', async () => {
  const { gateway, running } = await gatewayRunning('sleeper.sh', 1, 5000)
  expect(running).toHaveLength(2)
  expect(pluginGroups()).toHaveLength(1)
  for (const pgid of pluginGroups()) process.kill(-pgid, 'SIGKILL')
  await expectAllGone(running, 3000)
  await gateway.close({ force: true })
})

describe("a client's Ctrl+C while its plugins run, beside another client's on the same worker", () => {
  it('cancels its own within --abort-grace (code 4, plugins gone) and leaves the other client to finish OK', async () => {
    const nap = await files.write('nap.sh', ['#!/bin/sh', 'sleep 1.5', 'echo "OK - napped | t=1.5s"'])
    chmodSync(nap, 0o755)
    const file = await files.write('checks.toml', [
      'targets = ["127.0.0.0/8"]',
      '[check.long]',
      `exec = ["${PLUGINS}ignore-term.sh", "{address}", "${marker}"]`,
      'timeout = "60s"',
      '[check.brief]',
      `exec = ["${nap}", "{address}"]`,
    ])
    const server = startCli('run-server', ['-b', 'tcp://127.0.0.1:*', '--checks', file, '-w', '1', '--capacity', '8', '--log-level', 'info'])
    clis.push(server)
    await waitFor(() => server.stdout().includes('listening '), 'run-server to print its endpoint')
    const endpoint = /listening (\S+)/.exec(server.stdout())![1]!
    const longFile = await files.write('long.txt', ['127.0.0.1:long', '127.0.0.2:long', '127.0.0.3:long', '127.0.0.4:long'])
    const briefFile = await files.write('brief.txt', ['127.0.0.5:brief', '127.0.0.6:brief'])
    const graceMs = 2000
    const aborting = startCli('run-client', [longFile, '-n', '1', '-b', 'tcp://127.0.0.1:*', '-s', endpoint, '--abort-grace', String(graceMs), '--json'])
    clis.push(aborting)
    await waitFor(() => pluginProcesses().length === 8, 'the 4 long plugins and their sleeps to run')
    const running = pluginProcesses()
    const other = startCli('run-client', [briefFile, '-n', '1', '-b', 'tcp://127.0.0.1:*', '-s', endpoint, '--json'])
    clis.push(other)
    // The worker's plugins are the children of its plugin host, its one child.
    const spawnedBy = (worker: number): number[] => childPids(worker).flatMap((host) => childPids(host))
    await waitFor(() => spawnedBy(childPids(server.pid)[0]!).length === 6, "the other client's plugins to run on the same worker")
    const interruptedAt = Date.now()
    aborting.child.kill('SIGINT')
    expect(await aborting.exited).toEqual({ code: 130, signal: null })
    expect(Date.now() - interruptedAt).toBeLessThan(graceMs + 1500)
    const summary = JSON.parse(aborting.stdout()) as { counts: Record<string, number> }
    expect(summary.counts).toMatchObject({ ok: 0, cancelled: 4, lost: 0 })
    // SIGTERM is ignored by these plugins: their group's SIGKILL comes 1 s later.
    await expectAllGone(running, 2500)
    expect(await other.exited).toEqual({ code: 0, signal: null })
    const otherSummary = JSON.parse(other.stdout()) as { counts: Record<string, number>; states: Record<string, number> }
    expect(otherSummary.counts).toMatchObject({ ok: 2, cancelled: 0, lost: 0 })
    expect(otherSummary.states).toEqual({ ok: 2, warning: 0, critical: 0, unknown: 0 })
    server.child.kill('SIGINT')
    expect((await server.exited).code).toBe(0)
  })
})
