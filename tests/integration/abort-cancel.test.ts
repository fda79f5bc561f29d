/**
 * A client's abort cancels its running work, end to end, on real sockets and
 * real processes: the gateway sends `cancel` to the workers that hold the
 * client's batches, their commands come back code 4 well within the client's
 * abort grace, and the workers go on serving. A worker that ignores `cancel`
 * (allowed by the protocol) runs its commands to the end: the client counts
 * those results if they come within the grace, else as lost, interrupted.
 */
import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Dealer, Push } from 'zeromq'
import { Client, Gateway, type CommandRecord, type GatewayOptions } from '../../dist/index.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { decodeMessage, enc, type Header } from '../helpers/independent-cgp.js'
import { childPids, expectAllGone, isAlive, startCli, waitFor, type RunningCli } from '../helpers/processes.js'

const SLOW = 'tests/fixtures/slow-executor.mjs'

let files: Fixtures
let gateways: Gateway[] = []
let clis: RunningCli[] = []
let pids: number[] = []
let closers: (() => void)[] = []

beforeEach(async () => {
  files = await fixtures()
  gateways = []
  clis = []
  pids = []
  closers = []
})

afterEach(async () => {
  for (const close of closers) close()
  for (const cli of clis) if (cli.child.exitCode === null) cli.child.kill('SIGKILL')
  await Promise.all(gateways.map((gateway) => gateway.close({ force: true })))
  await expectAllGone([...pids, ...clis.map((cli) => cli.pid)], 5000)
  // Nothing of ours is left: no forked worker, no CLI.
  await waitFor(() => childPids(process.pid).length === 0, 'every child process of the test to be gone', 5000)
  await files.remove()
})

async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', heartbeatIntervalMs: 200, ...options })
  gateway.on('worker:spawn', ({ pid }) => pids.push(pid))
  gateways.push(gateway)
  await gateway.start()
  return gateway
}

/** `count` commands, `command` each, over 10.0.0.x. */
function commands(count: number, command: string): { address: string; command: string }[] {
  return Array.from({ length: count }, (_, k) => ({ address: `10.0.0.${k + 1}`, command }))
}

/** Lines of `file`, or none while it does not exist yet. */
function linesOf(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((line) => line !== '')
  } catch {
    return []
  }
}

describe('a Ctrl+C while forked workers run 30 s commands of the client', () => {
  it('gets them back code 4 well within the grace; run() resolves with them counted cancelled; the workers serve the next client', async () => {
    const started = `${files.dir}/started.txt`
    const gateway = await startGateway({
      executor: { module: SLOW, options: { ms: 30_000, startedFile: started } },
      maxWorkers: 2,
      minWorkers: 2,
      capacity: 2,
    })
    await waitFor(() => gateway.connectedWorkers === 2, 'both workers to be ready')
    const workerPids = [...gateway.workerPids]
    const graceMs = 2000
    const client = new Client({ servers: [gateway.endpoint], bind: 'tcp://127.0.0.1:*', batchSize: 2, abortGraceMs: graceMs })
    const arrivals: { at: number; records: CommandRecord[] }[] = []
    client.on('records', (records) => arrivals.push({ at: Date.now(), records }))
    // 8 batches of 2: two workers × capacity 2 run 4 of them (8 commands), the other 4 wait in the queue.
    const run = client.run(commands(16, 'slow'))
    await waitFor(() => linesOf(started).length === 8, 'the dispatched batches to be running')
    const interruptedAt = Date.now()
    await client.interrupt()
    const summary = await run
    const tookMs = Date.now() - interruptedAt

    expect(summary).toMatchObject({ exitCode: 130, interrupted: true, commands: 16 })
    expect(summary.counts).toEqual({ ok: 0, unknown: 0, failed: 0, timeout: 0, cancelled: 8, lost: 8 })
    // The 4 queued batches were dropped at the gateway: never answered, they are lost once the grace ends.
    expect(summary.lostBatches.interrupted).toBe(4)
    expect(tookMs).toBeLessThan(graceMs + 1500)
    const answered = arrivals.filter((a) => a.records.some((r) => r.code !== null))
    expect(answered).toHaveLength(4)
    for (const arrival of answered) {
      expect(arrival.records.map((r) => r.code)).toEqual([4, 4])
      expect(arrival.at - interruptedAt).toBeLessThan(graceMs / 2)
    }
    expect(gateway.stats.cancelsSent).toBe(2)

    // The same worker processes, alive, serve a following client as usual.
    await waitFor(() => gateway.stats.completed === 4, 'the cancelled batches to be done')
    const next = new Client({ servers: [gateway.endpoint], bind: 'tcp://127.0.0.1:*', batchSize: 2 })
    const nextSummary = await next.run(commands(8, 'wait10'))
    expect(nextSummary).toMatchObject({ exitCode: 0, total: 8, counts: { ok: 8, cancelled: 0, lost: 0 } })
    expect(workerPids.every(isAlive)).toBe(true)
    expect(gateway.workerPids.sort()).toEqual(workerPids.sort())
    expect([gateway.stats.workersSpawned, gateway.stats.workersLost]).toEqual([2, 0])
    // Nothing is left running in them: the graceful stop is quick, not a wait for 30 s commands.
    const closing = Date.now()
    await gateway.close()
    expect(Date.now() - closing).toBeLessThan(5000)
    await expectAllGone(workerPids)
  })
})

describe('run-client Ctrl+C against run-server --executor slow-executor', () => {
  it('exits 130 within --abort-grace, its summary counting the running commands cancelled, not lost', async () => {
    const started = `${files.dir}/started.txt`
    const server = startCli('run-server', [
      '--executor', SLOW,
      '--executor-options', JSON.stringify({ ms: 30_000, startedFile: started }),
      '-b', 'tcp://127.0.0.1:*', '-w', '1', '--capacity', '2', '--grace', '20000', '--log-level', 'info',
    ])
    clis.push(server)
    await waitFor(() => server.stdout().includes('listening '), 'run-server to print its endpoint')
    const endpoint = /listening (\S+)/.exec(server.stdout())![1]!
    const file = await files.write('commands.txt', commands(8, 'slow').map((c) => `${c.address}:${c.command}`))
    const graceMs = 1500
    const client = startCli('run-client', [file, '-n', '2', '-b', 'tcp://127.0.0.1:*', '-s', endpoint, '--abort-grace', String(graceMs), '--json'])
    clis.push(client)
    // One worker with capacity 2: two batches (4 commands) run, two wait in the queue.
    await waitFor(() => linesOf(started).length === 4, 'the dispatched batches to be running')
    const workerPids = childPids(server.pid)
    expect(workerPids).toHaveLength(1)
    pids.push(...workerPids)
    const interruptedAt = Date.now()
    client.child.kill('SIGINT')
    const exited = await client.exited
    const tookMs = Date.now() - interruptedAt
    expect(exited).toEqual({ code: 130, signal: null })
    expect(tookMs).toBeLessThan(graceMs + 1500)
    const summary = JSON.parse(client.stdout()) as { counts: Record<string, number>; lostBatches: { interrupted: number }; interrupted: boolean }
    expect(summary.interrupted).toBe(true)
    expect(summary.counts).toMatchObject({ ok: 0, cancelled: 4, lost: 4 })
    expect(summary.lostBatches.interrupted).toBe(2)
    await waitFor(() => server.stderr().includes('client aborted'), 'the gateway to log the abort')
    const abortLine = server.stderr().split('\n').find((line) => line.includes('client aborted'))!
    expect(abortLine).toContain('"dropped":2')
    expect(abortLine).toContain('"cancelsSent":1')
    // The worker holds nothing any more: the gateway's Ctrl+C ends well before --grace 20 s.
    const stopping = Date.now()
    server.child.kill('SIGINT')
    expect((await server.exited).code).toBe(0)
    expect(Date.now() - stopping).toBeLessThan(5000)
    await expectAllGone(workerPids)
  })
})

/**
 * A CGP/1 worker written from protocol.md with raw zeromq sockets that does
 * not implement `cancel`: it records it and runs every task to the end
 * (`runMs`), then sends the result ([0, 1] per command) and `done`.
 */
class DeafWorker {
  readonly cancels: Header[] = []
  readonly tasks: Header[] = []
  private readonly dealer = new Dealer({ linger: 0 })
  private readonly pushes = new Map<string, Push>()
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(endpoint: string, id: string, capacity: number, runMs: number) {
    closers.push(() => this.close())
    this.dealer.connect(endpoint)
    void this.dealer.send(enc({ v: 1, type: 'ready', worker: id, capacity }))
    const beat = setInterval(() => void this.dealer.send(enc({ v: 1, type: 'heartbeat' })).catch(() => undefined), 100)
    closers.push(() => clearInterval(beat))
    void (async () => {
      for await (const frames of this.dealer) {
        const { header, body } = decodeMessage(frames)
        if (header?.type === 'cancel') this.cancels.push(header)
        if (header?.type !== 'task') continue
        this.tasks.push(header)
        const timer = setTimeout(() => {
          this.timers.delete(timer)
          void this.answer(header, (body as unknown[]).length)
        }, runMs)
        this.timers.add(timer)
      }
    })().catch(() => undefined)
  }

  private async answer(task: Header, count: number): Promise<void> {
    const replyTo = task.replyTo as string
    let push = this.pushes.get(replyTo)
    if (push === undefined) {
      push = new Push({ linger: 0, sendTimeout: 500 })
      push.connect(replyTo)
      this.pushes.set(replyTo, push)
    }
    const outcomes = Array.from({ length: count }, () => [0, 1])
    try {
      await push.send([enc({ v: 1, type: 'result', id: task.id, client: task.client, worker: 'deaf', attempt: task.attempt }), enc(outcomes)])
      await this.dealer.send(enc({ v: 1, type: 'done', id: task.id, client: task.client }))
    } catch {
      // The client is gone: its late result has nowhere to go.
    }
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    for (const push of this.pushes.values()) push.close()
    this.dealer.close()
  }
}

describe('a worker that ignores cancel (allowed by CGP/1)', () => {
  it.each([
    { when: 'within the grace', runMs: 600, graceMs: 4000, counts: { ok: 8, cancelled: 0, lost: 0 }, interrupted: 0 },
    { when: 'after the grace', runMs: 4000, graceMs: 600, counts: { ok: 0, cancelled: 0, lost: 8 }, interrupted: 4 },
  ])('runs its commands to the end; the client counts their results $when, else lost as interrupted', async ({ runMs, graceMs, counts, interrupted }) => {
    const gateway = await startGateway({ maxWorkers: 0 })
    const worker = new DeafWorker(gateway.workersEndpoint, 'deaf-1', 4, runMs)
    await waitFor(() => gateway.connectedWorkers === 1, 'the deaf worker to be ready')
    const client = new Client({ servers: [gateway.endpoint], bind: 'tcp://127.0.0.1:*', batchSize: 2, abortGraceMs: graceMs })
    // 4 batches, all held by the worker: none waits in the gateway's queue.
    const run = client.run(commands(8, 'foo'))
    await waitFor(() => worker.tasks.length === 4, 'the worker to hold all four batches')
    const interruptedAt = Date.now()
    await client.interrupt()
    const summary = await run
    const tookMs = Date.now() - interruptedAt
    expect(worker.cancels).toEqual([{ v: 1, type: 'cancel', client: client.id }])
    expect(summary).toMatchObject({ exitCode: 130, interrupted: true, counts })
    expect(summary.lostBatches.interrupted).toBe(interrupted)
    // Within the grace, run() ends once the last result is in, not when the grace ends; after it, at its end.
    expect(tookMs).toBeLessThan(Math.min(runMs, graceMs) + 1500)
    if (interrupted > 0) expect(tookMs).toBeGreaterThanOrEqual(graceMs - 50)
    expect(gateway.stats.cancelsSent).toBe(1)
  })
})
