/**
 * The whole pipeline with real sockets on loopback and real forked workers:
 * library Client → Gateway (compiled, as shipped) → worker processes → Client.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Client, Gateway, formatStatus, requestStatus, type CommandRecord, type GatewayOptions } from '../../dist/index.js'
import { decodeUntrusted } from '../../dist/protocol/codec.js'
import { Request } from 'zeromq'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { expectAllGone, freePort, waitFor } from '../helpers/processes.js'
import { seededRandom } from '../helpers/random.js'

let files: Fixtures
let gateways: Gateway[] = []
let workerPids: number[] = []

/** Starts a gateway on a free port; `beforeStart` can listen to the events of the first forks. */
async function startGateway(options: GatewayOptions, beforeStart?: (gateway: Gateway) => void): Promise<Gateway> {
  const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', heartbeatIntervalMs: 200, ...options })
  gateway.on('worker:spawn', ({ pid }) => workerPids.push(pid))
  beforeStart?.(gateway)
  gateways.push(gateway)
  await gateway.start()
  return gateway
}

function client(gateway: Gateway, options: ConstructorParameters<typeof Client>[0] = {}): Client {
  return new Client({ servers: [gateway.endpoint], bind: 'tcp://127.0.0.1:*', resultTimeoutMs: 10_000, ...options })
}

beforeEach(async () => {
  files = await fixtures()
  gateways = []
  workerPids = []
})

afterEach(async () => {
  await Promise.all(gateways.map((gateway) => gateway.close()))
  await expectAllGone(workerPids)
  await files.remove()
})

describe('the seed scenario with short waits', () => {
  it('answers all 512 commands once and prints total 512', async () => {
    const { commands, map } = await files.seed(512, 0.05)
    const gateway = await startGateway({ mapFile: map, maxWorkers: 4 })
    const summary = await client(gateway, { batchSize: 16 }).run(commands)
    expect(summary).toMatchObject({
      commands: 512,
      batches: 32,
      total: 512,
      counts: { ok: 512, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 },
      duplicates: 0,
      exitCode: 0,
    })
    // `done` follows the result, so the gateway may learn of the last ones a moment later.
    await waitFor(() => gateway.stats.completed === 32, 'the gateway to count 32 batches done')
    expect(gateway.stats.dispatched).toBe(32)
  })

  it('writes one record per command with its file line, address, command, code and value', async () => {
    const { commands, map } = await files.seed(40, 0)
    const gateway = await startGateway({ mapFile: map, maxWorkers: 1 })
    const records: CommandRecord[] = []
    const c = client(gateway, { batchSize: 7 })
    c.on('records', (batch) => records.push(...batch))
    await c.run(commands)
    records.sort((a, b) => a.line - b.line)
    expect(records).toHaveLength(40)
    expect(records[0]).toEqual({ line: 1, address: '137.72.95.0', command: 'foo', code: 0, value: 1 })
    expect(records[39]).toEqual({ line: 40, address: '137.72.95.19', command: 'bar', code: 0, value: 1 })
  })
})

describe('a client with a slow consumer of its records', () => {
  it('sends no further batch while beforeBatch holds it back, then finishes the run', async () => {
    const { commands, map } = await files.seed(32, 0)
    const gateway = await startGateway({ mapFile: map, maxWorkers: 1 })
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let calls = 0
    const c = client(gateway, { batchSize: 16, beforeBatch: () => (++calls === 2 ? held : undefined) })
    const records: CommandRecord[] = []
    c.on('records', (batch) => records.push(...batch))
    const run = c.run(commands)
    await waitFor(() => records.length === 16, 'the first batch to be answered')
    expect(calls).toBe(2)
    expect(gateway.stats.received).toBe(1)
    release()
    const summary = await run
    expect(summary.counts.ok).toBe(32)
    expect(gateway.stats.received).toBe(2)
  })

  it('still stops at once on interrupt when beforeBatch never lets go (a stalled pipe)', async () => {
    const { commands, map } = await files.seed(32, 0)
    const gateway = await startGateway({ mapFile: map, maxWorkers: 1 })
    let calls = 0
    const c = client(gateway, { batchSize: 16, beforeBatch: () => (++calls === 2 ? new Promise<void>(() => undefined) : undefined) })
    const run = c.run(commands)
    await waitFor(() => calls === 2 && c.progress.inFlight === 0, 'the first batch to finish and the second to be held')
    await c.interrupt()
    const summary = await run
    expect(summary.exitCode).toBe(130)
    expect(summary.counts).toMatchObject({ ok: 16, lost: 16 })
    expect(summary.lostBatches.interrupted).toBe(1)
  })
})

describe('ten clients of 10 000 commands each, at once', () => {
  it('each gets exactly its own results', async () => {
    // Client i asks addresses 10.i.x.y, which answer i + 1: a result delivered to the wrong client shows in its total.
    const map: string[] = []
    const files10: string[] = []
    for (let i = 0; i < 10; i++) {
      const addresses = Array.from({ length: 100 }, (_, k) => `10.${i}.${Math.floor(k / 10)}.${k % 10}`)
      for (const address of addresses) map.push(`${address}:ping:${i + 1}:0`)
      files10.push(await files.write(`client-${i}.txt`, Array.from({ length: 10_000 }, (_, k) => `${addresses[k % 100]}:ping`)))
    }
    const gateway = await startGateway({ mapFile: await files.write('map.txt', map), maxWorkers: 2, minWorkers: 2 })
    const summaries = await Promise.all(files10.map((file) => client(gateway, { batchSize: 100 }).run(file)))
    summaries.forEach((summary, i) => {
      expect(summary.counts, `client ${i}`).toEqual({ ok: 10_000, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 })
      expect(summary.total, `client ${i}`).toBe(10_000 * (i + 1))
      expect(summary.duplicates, `client ${i}`).toBe(0)
    })
  })
})

describe('the status endpoint', () => {
  it('answers with the queue per client, the workers and the counters, and refuses garbage with an error reply', async () => {
    const { commands, map } = await files.seed(64, 0.3)
    const statusBind = `ipc:///tmp/cgw-status-${process.pid}-${Date.now()}.sock`
    const gateway = await startGateway({ mapFile: map, maxWorkers: 1, capacity: 1, statusBind })
    await waitFor(() => gateway.connectedWorkers === 1, 'the worker to join')
    const c = client(gateway, { batchSize: 4 })
    const run = c.run(commands)
    await waitFor(() => gateway.queued >= 10, 'a queue')
    const status = await requestStatus(statusBind, 2000)
    expect(status.endpoint).toBe(gateway.endpoint)
    expect(status.queue.batches).toBeGreaterThanOrEqual(10)
    expect(status.queue.clients).toEqual([{ client: c.id, batches: status.queue.batches }])
    expect(status.workers).toHaveLength(1)
    expect(status.workers[0]).toMatchObject({ kind: 'forked', capacity: 1, inFlight: 1, pid: gateway.workerPids[0] })
    expect(status.pool).toMatchObject({ forked: 1, min: 1, max: 1 })
    expect(status.counters.received).toBeGreaterThanOrEqual(11)
    expect(formatStatus(status)).toContain(`queue     ${status.queue.batches} batches`)

    const raw = new Request({ linger: 0, receiveTimeout: 2000 })
    raw.connect(statusBind)
    await raw.send(Buffer.from([0xc1, 0xff]))
    const [answer] = await raw.receive()
    raw.close()
    expect(decodeUntrusted(answer!, 1024, 4)).toMatchObject({ ok: true, value: { v: 1, type: 'error' } })
    await run
    // done follows each result, so the count may trail the client by a moment.
    await waitFor(async () => (await requestStatus(statusBind, 2000)).workers[0]!.served === 16, 'the worker to have served 16 batches')
  })

  it('names the endpoint when nothing answers', async () => {
    await expect(requestStatus(`ipc:///tmp/cgw-nobody-${process.pid}.sock`, 200)).rejects.toThrow(/status of ipc:.*no answer within 200 ms/)
  })
})

describe('a small client arriving behind a big backlog', () => {
  it('is served in turn with the big client, not after its whole backlog', async () => {
    const { map } = await files.seed(512, 0.05)
    const lines = (count: number, offset: number): string[] =>
      Array.from({ length: count }, (_, k) => `137.72.95.${Math.floor(((offset + k) % 512) / 2)}:${(offset + k) % 2 === 0 ? 'foo' : 'bar'}`)
    const big = await files.write('big.txt', lines(600, 0))
    const small = await files.write('small.txt', lines(10, 7))
    const gateway = await startGateway({ mapFile: map, maxWorkers: 1, capacity: 2 })
    const bigRun = client(gateway, { batchSize: 4 }).run(big) // 150 batches at 40 a second: ~4 s in all
    await waitFor(() => gateway.queued >= 100, 'a backlog of the big client')
    const started = Date.now()
    const summary = await client(gateway, { batchSize: 4 }).run(small)
    const smallWait = Date.now() - started
    expect(summary.counts).toMatchObject({ ok: 10, lost: 0 })
    // First in, first out would take 100 queued batches / 40 a second = 2.5 s.
    expect(smallWait).toBeLessThan(1200)
    expect(gateway.queued).toBeGreaterThan(40) // the big client is still far from done
    expect((await bigRun).counts).toMatchObject({ ok: 600, lost: 0 })
  })
})

describe("a client's Ctrl+C while another client shares the gateway", () => {
  it("drops the interrupted client's queued batches and serves every batch of the other", async () => {
    const { map } = await files.seed(64, 0.2)
    const lines = (from: number, to: number): string[] =>
      Array.from({ length: to - from }, (_, k) => `137.72.95.${Math.floor((from + k) / 2)}:${(from + k) % 2 === 0 ? 'foo' : 'bar'}`)
    const commandsA = await files.write('a.txt', lines(0, 40))
    const commandsB = await files.write('b.txt', lines(40, 64))
    const gateway = await startGateway({ mapFile: map, maxWorkers: 1, capacity: 1 })
    const aborts: { client: string; dropped: number }[] = []
    gateway.on('abort', (abort) => aborts.push(abort))
    const a = client(gateway, { batchSize: 2 })
    const b = client(gateway, { batchSize: 2 })
    const runA = a.run(commandsA)
    const runB = b.run(commandsB)
    await waitFor(() => gateway.queued >= 20, 'both clients to have batches queued')
    await a.interrupt()
    const [summaryA, summaryB] = await Promise.all([runA, runB])
    expect(summaryA.exitCode).toBe(130)
    expect(aborts).toHaveLength(1)
    expect(aborts[0]!.client).toBe(a.id)
    expect(aborts[0]!.dropped).toBeGreaterThan(0)
    expect(summaryB).toMatchObject({ exitCode: 0, counts: { ok: 24, lost: 0 } })
    // Nothing of A's ran after its abort: only what had been dispatched before it (B has 12 batches, A 20).
    await waitFor(() => gateway.stats.completed === gateway.stats.dispatched, 'the last done to arrive')
    expect(gateway.stats.dispatched).toBeLessThanOrEqual(12 + (20 - aborts[0]!.dropped))
  })
})

describe('idle workers', () => {
  it('are retired down to min-workers after the idle timeout, and the pool grows again under load', async () => {
    const { commands, map } = await files.seed(48, 0.3)
    const gateway = await startGateway({ mapFile: map, maxWorkers: 3, minWorkers: 1, capacity: 1, idleTimeoutMs: 300 })
    const retired: string[] = []
    gateway.on('worker:retire', ({ id }) => retired.push(id))
    expect((await client(gateway, { batchSize: 4 }).run(commands)).counts.ok).toBe(48)
    const grown = gateway.stats.workersSpawned
    expect(grown).toBeGreaterThan(1)
    await waitFor(() => gateway.workerPids.length === 1, 'the pool to shrink to min-workers')
    expect(retired).toHaveLength(grown - 1)
    expect((await client(gateway, { batchSize: 4 }).run(commands)).counts.ok).toBe(48)
    expect(gateway.stats.workersSpawned).toBeGreaterThan(grown)
    expect(gateway.stats.workersLost).toBe(0)
  })
})

describe('with a per-command time limit', () => {
  it('cancels the commands that run past it as code 3 and answers the rest, without waiting for the slow ones', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:slow:5:30', '10.0.0.1:fast:7:0', '10.0.0.1:edge:9:0.2'])
    const commands = await files.write('commands.txt', ['10.0.0.1:slow', '10.0.0.1:fast', '10.0.0.1:slow', '10.0.0.1:edge'])
    const gateway = await startGateway({ mapFile: map, maxWorkers: 1, commandTimeoutMs: 200 })
    const records: CommandRecord[] = []
    const c = client(gateway, { batchSize: 4 })
    c.on('records', (batch) => records.push(...batch))
    const started = Date.now()
    const summary = await c.run(commands)
    expect(Date.now() - started).toBeLessThan(5000) // the slow ones wait 30 s
    expect(summary.counts).toMatchObject({ ok: 2, timeout: 2, cancelled: 0, lost: 0 })
    // A wait equal to the limit finishes: the command's timer is set before its limit's.
    expect(records.sort((a, b) => a.line - b.line).map((r) => [r.code, r.value])).toEqual([[3, null], [0, 7], [3, null], [0, 9]])
  })
})

describe('when a command is not in the device map', () => {
  it('reports unknown addresses and unknown commands as code 1 and the rest as code 0', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:5:0', '10.0.0.1:bar:7:0', 'db.example.com:ping:1:0', '2001:db8::1:foo:3:0'])
    const commands = await files.write('commands.txt', [
      '10.0.0.1:foo',
      '10.0.0.9:foo', // unknown address
      '10.0.0.1:reboot', // unknown command
      'db.example.com:ping',
      '[2001:db8::1]:foo',
    ])
    const gateway = await startGateway({ mapFile: map, maxWorkers: 1 })
    const records: CommandRecord[] = []
    const c = client(gateway, { batchSize: 2 })
    c.on('records', (batch) => records.push(...batch))
    const summary = await c.run(commands)
    expect(summary.counts).toEqual({ ok: 3, unknown: 2, failed: 0, timeout: 0, cancelled: 0, lost: 0 })
    expect(summary.total).toBe(5 + 1 + 3)
    expect(summary.exitCode).toBe(0)
    expect(records.filter((r) => r.code === 1).map((r) => r.line).sort()).toEqual([2, 3])
  })
})

describe('when a worker is SIGKILLed in the middle of its batches', () => {
  it('runs its batches again elsewhere and the client counts every command exactly once', async () => {
    const { commands, map } = await files.seed(96, 0.4)
    const gateway = await startGateway({ mapFile: map, maxWorkers: 2, minWorkers: 2, capacity: 3 })
    await waitFor(() => gateway.connectedWorkers === 2, 'two workers ready')
    const c = client(gateway, { batchSize: 4 })
    const run = c.run(commands)
    await waitFor(() => gateway.stats.dispatched >= 6, 'batches to be dispatched')
    const victim = gateway.workerPids[0]!
    process.kill(victim, 'SIGKILL')
    const summary = await run
    expect(summary.counts).toEqual({ ok: 96, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 })
    expect(summary.total).toBe(96)
    expect(gateway.stats.workersLost).toBeGreaterThanOrEqual(1)
    expect(gateway.stats.requeued).toBeGreaterThanOrEqual(1)
    await waitFor(() => gateway.connectedWorkers === 2, 'the pool to be refilled')
  })
})

describe('under worker churn (a random ready worker SIGKILLed every 200 ms)', () => {
  it('loses nothing, counts every command once, and refills the pool', async () => {
    const { commands, map } = await files.seed(1000, 0.2)
    // A batch may be caught by several kills in a row: allow it the runs churn needs.
    const ready = new Map<string, number>()
    const pids = new Map<string, number>()
    const gateway = await startGateway({ mapFile: map, maxWorkers: 3, minWorkers: 3, capacity: 2, maxAttempts: 20 }, (g) => {
      g.on('worker:spawn', ({ id, pid }) => pids.set(id, pid))
      g.on('worker:ready', ({ id }) => ready.set(id, pids.get(id)!))
      g.on('worker:exit', ({ id }) => ready.delete(id))
    })
    await waitFor(() => gateway.connectedWorkers === 3, 'three workers ready')
    const random = seededRandom(42)
    let kills = 0
    let running = true
    const run = client(gateway, { batchSize: 16 })
      .run(commands)
      .finally(() => (running = false))
    const churn = (async () => {
      while (running) {
        await new Promise((resolve) => setTimeout(resolve, 200))
        const victims = [...ready.values()]
        if (!running || victims.length < 2) continue // keep one alive so the run can progress
        process.kill(victims[Math.floor(random() * victims.length)]!, 'SIGKILL')
        kills++
      }
    })()
    const summary = await run
    await churn
    expect(kills).toBeGreaterThanOrEqual(3)
    expect(summary.counts).toEqual({ ok: 1000, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 })
    expect(summary.total).toBe(1000)
    expect(gateway.stats.workersLost).toBeGreaterThanOrEqual(kills)
    await waitFor(() => gateway.connectedWorkers === 3, 'the pool to be refilled')
  })
})

describe('when a worker stops heartbeating (SIGSTOP) while it holds batches', () => {
  it('is declared dead after 3 silent intervals, killed, and its batches run elsewhere once', async () => {
    const { commands, map } = await files.seed(48, 0.3)
    const gateway = await startGateway({ mapFile: map, maxWorkers: 2, minWorkers: 2, capacity: 2 })
    await waitFor(() => gateway.connectedWorkers === 2, 'two workers ready')
    const lost: { reason: string; requeued: number }[] = []
    gateway.on('worker:lost', (worker) => lost.push(worker))
    const run = client(gateway, { batchSize: 4 }).run(commands)
    await waitFor(() => gateway.stats.dispatched >= 4, 'both workers to hold batches')
    const hung = gateway.workerPids[0]!
    const stoppedAt = Date.now()
    process.kill(hung, 'SIGSTOP')
    const summary = await run
    expect(summary.counts).toEqual({ ok: 48, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 })
    expect(summary.total).toBe(48)
    expect(lost[0]).toMatchObject({ reason: 'heartbeat' })
    expect(lost[0]!.requeued).toBeGreaterThan(0)
    // 3 intervals of 200 ms, checked every half interval: well under 2 s.
    expect(Date.now() - stoppedAt).toBeLessThan(5000)
    await expectAllGone([hung], 2000) // SIGKILL ends even a stopped process
  })
})

describe('when no gateway is listening', () => {
  it('gives up after its bounded retries, names the endpoint, and reports every batch unsent (exit 1)', async () => {
    const port = await freePort()
    const commands = await files.write('commands.txt', ['10.0.0.1:foo', '10.0.0.2:foo', '10.0.0.3:foo'])
    const c = new Client({ servers: [`tcp://127.0.0.1:${port}`], bind: 'tcp://127.0.0.1:*', batchSize: 1, sendRetries: 2, retryDelayMs: 100 })
    const started = Date.now()
    const summary = await c.run(commands)
    // 1 attempt + 2 retries of 100 ms, plus start-up: well under a second.
    expect(Date.now() - started).toBeLessThan(2000)
    expect(summary.exitCode).toBe(1)
    expect(summary.counts.lost).toBe(3)
    expect(summary.lostBatches.unsent).toBe(3)
    expect(summary.sendError).toContain(`tcp://127.0.0.1:${port}`)
  })
  it('counts a batch once when its result timeout is shorter than its send retries: it is unsent, never also resent or unanswered', async () => {
    const port = await freePort()
    const commands = await files.write('commands.txt', ['10.0.0.1:foo'])
    const c = new Client({
      servers: [`tcp://127.0.0.1:${port}`],
      bind: 'tcp://127.0.0.1:*',
      sendRetries: 3,
      retryDelayMs: 100,
      resultTimeoutMs: 10,
      maxResends: 2,
    })
    const summary = await c.run(commands)
    expect(summary.lostBatches).toEqual({ unsent: 1, rejected: {}, noResult: 0, interrupted: 0 })
    expect(summary.resends).toBe(0)
    expect(summary.counts.lost).toBe(1)
  })
})

describe('when a batch holds more commands than the gateway accepts', () => {
  it('is rejected too-large and counted as lost, and the other batches are served', async () => {
    const { commands, map } = await files.seed(12, 0)
    const gateway = await startGateway({ mapFile: map, maxWorkers: 1, maxBatch: 5 })
    const summary = await client(gateway, { batchSize: 6 }).run(commands)
    expect(summary.counts.lost).toBe(12)
    expect(summary.lostBatches.rejected).toEqual({ 'too-large': 2 })
    expect(summary.exitCode).toBe(1)
    expect(gateway.stats.rejected['too-large']).toBe(2)
  })
})

describe('when the gateway closes with work in hand', () => {
  it('lets workers deliver the batches they hold, rejects the queued ones, and leaves no process', async () => {
    const { commands, map } = await files.seed(64, 0.5)
    const gateway = await startGateway({ mapFile: map, maxWorkers: 1, capacity: 2 })
    const c = client(gateway, { batchSize: 8, retryDelayMs: 50, sendRetries: 1 })
    const run = c.run(commands)
    await waitFor(() => gateway.stats.dispatched >= 2 && gateway.queued > 0, 'some batches running and some queued')
    const pids = gateway.workerPids
    const closing = gateway.close()
    const summary = await run
    await closing
    // The two running batches (16 commands) were delivered; queued ones were rejected shutting-down.
    expect(summary.counts.ok).toBeGreaterThanOrEqual(16)
    expect(summary.counts.ok + summary.counts.lost).toBe(64)
    expect(gateway.stats.rejected['shutting-down']).toBeGreaterThan(0)
    await expectAllGone(pids, 3000)
  })
})
