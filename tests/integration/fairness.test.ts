/**
 * Fairness inside one worker (issue row 7, short form), with real sockets and
 * a real forked worker: the worker holds big batches whose 1-second commands
 * keep every slot busy for many seconds, and a small batch arrives behind
 * them. First come, first served would start the small batch's commands only
 * after every command ahead of it; the fair order starts them in the next
 * freed slots, so it is answered in about two command waits.
 *
 * Then the Worker class under a gateway played by hand (a ROUTER), with an
 * executor the test controls: the exact order of starts, and the behaviours
 * the fair order must keep (forced close, time limits, throwing executors).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Pull } from 'zeromq'
import { Client, Gateway, Worker, type CommandRecord, type Executor } from '../../dist/index.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { decodeMessage, enc, receiveWithin, type Header } from '../helpers/independent-cgp.js'
import { expectAllGone, waitFor } from '../helpers/processes.js'
import { handRouter, type Track } from '../helpers/hand-peers.js'

const CONCURRENCY = 64
const BIG_BATCH = 250
const BIG_BATCHES = 4
/**
 * 1 000 one-second commands ahead at 64 at once: first come, first served
 * starts a command queued behind them in the 16th wave, ~16 s later. Fair: in
 * the 2nd wave, so answered ~2 s after it arrives.
 */
const BOUND_MS = 3000

let files: Fixtures
let gateway: Gateway | undefined
let workerPids: number[] = []
let clients: Client[] = []
let runs: Promise<unknown>[] = []
let sockets: { close(): void }[] = []
const track: Track = (socket) => {
  sockets.push(socket)
  return socket
}
let workers: Worker[] = []
let sequence = 0

/** One gateway with one forked worker, every command of `map` waiting 1 s. */
async function startGateway(map: string): Promise<Gateway> {
  const g = new Gateway({ mapFile: map, bind: 'tcp://127.0.0.1:*', maxWorkers: 1, minWorkers: 1, concurrency: CONCURRENCY, heartbeatIntervalMs: 200 })
  g.on('worker:spawn', ({ pid }) => workerPids.push(pid))
  gateway = g
  await g.start()
  await waitFor(() => g.connectedWorkers === 1, 'the worker to join')
  return g
}

function client(g: Gateway, batchSize: number): Client {
  const c = new Client({ servers: [g.endpoint], bind: 'tcp://127.0.0.1:*', batchSize, resultTimeoutMs: 60_000 })
  clients.push(c)
  return c
}

/** `count` command lines over 100 addresses of 10.`net`.0.x. */
function lines(net: number, count: number): string[] {
  return Array.from({ length: count }, (_, k) => `10.${net}.0.${k % 100}:ping`)
}

beforeEach(async () => {
  files = await fixtures()
  workerPids = []
  clients = []
  runs = []
  sockets = []
  workers = []
})

afterEach(async () => {
  // The big runs are still going: interrupt them, and kill the worker with its commands.
  await Promise.all(clients.map((c) => c.interrupt()))
  await Promise.all(runs)
  await Promise.all(workers.map((worker) => worker.close({ force: true })))
  for (const socket of sockets) socket.close()
  await gateway?.close({ force: true })
  gateway = undefined
  await expectAllGone(workerPids)
  await files.remove()
})

describe('one worker holding big batches of one client (row 7)', () => {
  it("answers another client's 16-command batch within 3 s, not after the ~16 s of commands ahead of it", async () => {
    // A's devices answer 1, B's answer 2: B's total shows that B got its own results.
    const map = await files.write('map.txt', [
      ...Array.from({ length: 100 }, (_, k) => `10.1.0.${k}:ping:1:1`),
      ...Array.from({ length: 100 }, (_, k) => `10.2.0.${k}:ping:2:1`),
    ])
    const g = await startGateway(map)
    const a = client(g, BIG_BATCH)
    const aRecords: CommandRecord[] = []
    a.on('records', (batch) => aRecords.push(...batch))
    runs.push(a.run(await files.write('a.txt', lines(1, BIG_BATCH * BIG_BATCHES))))
    await waitFor(() => g.stats.dispatched === BIG_BATCHES, "A's batches to reach the worker")

    const b = client(g, 16)
    const bFile = await files.write('b.txt', lines(2, 16))
    const started = Date.now()
    let bWaitMs: number | undefined
    const bRun = b.run(bFile).then((summary) => {
      bWaitMs = Date.now() - started
      return summary
    })
    runs.push(bRun)
    await waitFor(() => bWaitMs !== undefined, `B's result within ${BOUND_MS} ms`, BOUND_MS)
    const summary = await bRun
    expect(summary.counts).toEqual({ ok: 16, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 })
    expect(summary.total).toBe(32)
    // Each command waits 1 s, and B's waited for a slot first: it did run behind A.
    expect(bWaitMs).toBeGreaterThanOrEqual(1000)
    expect(bWaitMs).toBeLessThan(BOUND_MS)
    // A's work was still there: none of its batches is answered yet.
    expect(aRecords).toHaveLength(0)
  })
})

describe("one worker holding a client's big batches and its small last batch", () => {
  it('answers the small batch within 3 s of the run, not after the big batches ahead of it', async () => {
    const map = await files.write('map.txt', Array.from({ length: 100 }, (_, k) => `10.1.0.${k}:ping:1:1`))
    const g = await startGateway(map)
    // 1 016 lines in batches of 500: two big batches, then a last one of 16. The
    // 1 000 commands ahead of it would take it to the 16th wave; taking every third
    // freed slot (its client's batches in turn), it starts its 16 in the 2nd.
    const bigBatch = 500
    const a = client(g, bigBatch)
    const records: CommandRecord[] = []
    a.on('records', (batch) => records.push(...batch))
    const started = Date.now()
    runs.push(a.run(await files.write('a.txt', lines(1, 2 * bigBatch + 16))))
    const small = (): CommandRecord[] => records.filter((r) => r.line > 2 * bigBatch)
    await waitFor(() => small().length > 0, `the small batch's result within ${BOUND_MS} ms`, BOUND_MS)
    const waitMs = Date.now() - started
    expect(waitMs).toBeGreaterThanOrEqual(1000)
    // Answered whole, and before either big batch (each needs ~15 s at half of the slots).
    expect(small().map((r) => r.line).sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, k) => 2 * bigBatch + 1 + k))
    expect(small().every((r) => r.code === 0 && r.value === 1)).toBe(true)
    expect(records).toHaveLength(16)
    expect(g.stats.dispatched).toBe(3)
  })
})

/**
 * A gateway played by a ROUTER on a fresh ipc:// path, a client's results PULL,
 * and a Worker (in this process) on `executor`, joined: its ready is read.
 */
async function handGateway(executor: Executor, options: Partial<ConstructorParameters<typeof Worker>[0]> = {}) {
  const { router, endpoint } = await handRouter(track)
  const replies = new Pull({ linger: 0 })
  sockets.push(replies)
  await replies.bind('tcp://127.0.0.1:*')
  const replyTo = replies.lastEndpoint!
  const worker = new Worker({ gateway: endpoint, executor, id: `fair-${sequence}`, ...options })
  workers.push(worker)
  worker.start()
  const [identity, ready] = await router.receive()
  expect(decodeMessage([ready!]).header).toMatchObject({ type: 'ready' })
  /** Hands the worker batch `id` of `client` with one command per address. */
  const send = (client: string, id: string, addresses: string[]): Promise<void> =>
    router.send([identity!, enc({ v: 1, type: 'task', id, client, replyTo, attempt: 1 }), enc(addresses.map((a) => [a, 'foo']))])
  return { worker, send, replies }
}

/** An executor whose commands run until the test finishes them (or their signal aborts them). */
function handExecutor() {
  const started: string[] = []
  const running: (() => void)[] = []
  const executor: Executor = (address, _command, signal) =>
    new Promise((resolve, reject) => {
      started.push(address)
      running.push(() => resolve(1))
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
    })
  return { started, running, executor }
}

describe('the Worker class under a gateway played by hand', () => {
  it("starts waiting commands round-robin across clients, then across each client's batches", async () => {
    const { started, running, executor } = handExecutor()
    const { worker, send } = await handGateway(executor, { concurrency: 1 })
    // Addresses name batch and index: 10.<batch>.0.<index>. Batch 1 and 2 are client A's, 3 is B's.
    const addresses = (batch: number): string[] => [0, 1, 2].map((i) => `10.${batch}.0.${i}`)
    await send('A', 'a1', addresses(1))
    await send('A', 'a2', addresses(2))
    await send('B', 'b1', addresses(3))
    await waitFor(() => worker.holding === 3 && started.length === 1, 'the worker to hold the three batches')
    for (let n = 2; n <= 9; n++) {
      running.shift()!()
      await waitFor(() => started.length === n, `command number ${n} to start`, 2000)
    }
    const label = (address: string): string => `${['', 'a1', 'a2', 'b1'][Number(address.split('.')[1])]}:${address.split('.')[3]}`
    // First come, first served: a1:0 a1:1 a1:2 a2:0 a2:1 a2:2 b1:0 b1:1 b1:2.
    expect(started.map(label)).toEqual(['a1:0', 'b1:0', 'a2:0', 'b1:1', 'a1:1', 'b1:2', 'a2:1', 'a1:2', 'a2:2'])
  })

  it('starts none of the commands still waiting when it is closed by force', async () => {
    const { started, executor } = handExecutor()
    const { worker, send } = await handGateway(executor, { concurrency: 2 })
    const finished: { id: string; delivered: boolean }[] = []
    worker.on('batch:done', (batch) => finished.push(batch))
    await send('A', 'a1', ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'])
    await send('B', 'b1', ['10.0.1.1', '10.0.1.2'])
    await waitFor(() => worker.holding === 2 && started.length === 2, 'two commands running, four waiting')
    await worker.close({ force: true })
    // Every command has an outcome once each batch is done: the waiting ones got theirs without starting.
    await waitFor(() => finished.length === 2, 'both batches to be settled', 3000)
    expect(started).toEqual(['10.0.0.1', '10.0.0.2'])
  })

  it('applies the time limit to each command from its own start, also to commands that waited for a slot', async () => {
    const { executor } = handExecutor()
    const { send, replies } = await handGateway(executor, { concurrency: 1, commandTimeoutMs: 100 })
    const started = Date.now()
    await send('A', 'a1', ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
    const result = await receiveWithin(replies, 3000)
    expect(result?.header).toMatchObject({ type: 'result', id: 'a1' })
    expect(result?.body).toEqual([[3, null], [3, null], [3, null]])
    // One after another: the last one's limit started when the second one's ended.
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
  })

  it('gives the slot back when the executor throws instead of returning a promise', async () => {
    const executor = ((address: string) => {
      if (address === '10.0.0.1') throw new Error('boom')
      return Promise.resolve(7)
    }) as Executor
    const { send, replies } = await handGateway(executor, { concurrency: 1 })
    await send('A', 'a1', ['10.0.0.1', '10.0.0.2'])
    await send('B', 'b1', ['10.0.0.3'])
    const results: Header[] = []
    const bodies: unknown[] = []
    for (let n = 0; n < 2; n++) {
      const received = await receiveWithin(replies, 3000)
      results.push(received!.header!)
      bodies.push(received!.body)
    }
    expect(results.map((h) => h.id).sort()).toEqual(['a1', 'b1'])
    expect(bodies[results.findIndex((h) => h.id === 'a1')]).toEqual([[2, 'boom'], [0, 7]])
    expect(bodies[results.findIndex((h) => h.id === 'b1')]).toEqual([[0, 7]])
  })
})
