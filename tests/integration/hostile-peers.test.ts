/**
 * Peers that do not follow CGP/1, on real sockets: each case is a row of the
 * hostile-peers review, in its short form. A flood of tasks whose replyTo
 * nobody serves, a worker that declares a huge capacity, says ready again and
 * again, hoards batches, or claims another worker's id, colliding batch keys,
 * and a flood of aborts.
 */
import { readFile } from 'node:fs/promises'
import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest'
import { pino } from 'pino'
import { Dealer, Push } from 'zeromq'
import { Client, Gateway, Worker, type GatewayOptions } from '../../dist/index.js'
import { enc, withDeadline } from '../helpers/independent-cgp.js'
import { HandWorker, handClient, type HandWorkerOptions, type Track } from '../helpers/hand-peers.js'
import { expectAllGone, startCli, waitFor, type RunningCli } from '../helpers/processes.js'
import { fixtures, type Fixtures } from '../helpers/data.js'

const sockets: { close(): void }[] = []
const gateways: Gateway[] = []
const pids: number[] = []
const clis: RunningCli[] = []
let sequence = 0
let files: Fixtures

const track: Track = (socket) => {
  sockets.push(socket)
  return socket
}

beforeEach(async () => {
  files = await fixtures()
})

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close()
  for (const cli of clis.splice(0)) if (cli.child.exitCode === null) cli.child.kill('SIGKILL')
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close({ force: true })))
  await expectAllGone(pids.splice(0))
  await files.remove()
})

async function gateway(options: GatewayOptions = {}): Promise<Gateway> {
  const g = new Gateway({ bind: 'tcp://127.0.0.1:*', maxWorkers: 0, heartbeatIntervalMs: 200, graceMs: 0, ...options })
  gateways.push(g)
  g.on('worker:spawn', ({ pid }) => pids.push(pid))
  await g.start()
  return g
}

/** A hand worker whose `ready` the gateway accepted. */
async function joined(g: Gateway, id: string, capacity: number, options?: HandWorkerOptions): Promise<HandWorker> {
  let onReady!: (worker: { id: string }) => void
  const ready = new Promise<void>((resolve) => (onReady = (worker) => worker.id === id && resolve()))
  g.on('worker:ready', onReady)
  try {
    const worker = new HandWorker(g.workersEndpoint, id, capacity, track, options)
    await withDeadline(ready, 10_000, `${id} to join`)
    return worker
  } finally {
    g.off('worker:ready', onReady)
  }
}

/** Resolves after `ms` unless `condition` became true first, which fails the test. */
async function staysFalse(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (condition()) throw new Error(`${what} happened`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Endpoints that nobody serves and that never connect: a send to them waits at the high-water mark. */
function unreachable(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `ipc:///tmp/cgw-nobody-${process.pid}-${++sequence}-${i}.sock`)
}

describe('row 1: a flood of tasks whose replyTo nobody serves', () => {
  it('malformed ones: the gateway answers each, evicts reply sockets mid-send, and serves on', async () => {
    // The gateway runs in this process: a rejection escaping it would land here.
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    onTestFinished(() => void process.off('unhandledRejection', onUnhandled))
    // A small cache and no retries, so a socket is evicted while its only (last) send attempt waits.
    const g = await gateway({ reply: { maxSockets: 4, retries: 0, retryDelayMs: 300 } })
    const push = track(new Push({ linger: 0 }))
    push.connect(g.endpoint)
    for (const replyTo of unreachable(40)) {
      // attempt 0 is out of range: malformed, but replyTo is readable, so the gateway answers.
      await push.send([enc({ v: 1, type: 'task', id: '1', client: 'flood', replyTo, attempt: 0 }), enc([['10.0.0.1', 'foo']])])
    }
    await waitFor(() => g.stats.rejected.malformed === 40, 'every malformed task to be answered')
    // Each answer's only attempt ends, evicted or timed out, as a counted and logged failure.
    await waitFor(() => g.stats.undelivered === 40, 'every answer to be given up', 5000)
    expect(unhandled).toEqual([])
    const worker = new HandWorker(g.workersEndpoint, `hw-${++sequence}`, 4, track, { autoDone: true })
    const client = await handClient(g.endpoint, track)
    await client.send('ok')
    await waitFor(() => g.stats.completed === 1, 'a normal batch to be served after the flood', 5000)
    expect(worker.tasks()).toHaveLength(1)
  })

  it('valid ones through run-server: its forked worker evicts reply sockets mid-send and is never respawned', async () => {
    const seed = await files.seed(32, 0)
    const server = startCli('run-server', ['-m', seed.map, '-b', 'tcp://127.0.0.1:*', '-w', '1', '--log-level', 'warn'])
    clis.push(server)
    await waitFor(() => server.stdout().includes('listening'), 'run-server to listen')
    const endpoint = /listening (\S+)/.exec(server.stdout())![1]!
    const push = track(new Push({ linger: 0 }))
    push.connect(endpoint)
    // More distinct replyTo than a worker caches (256), at 75/s as in the review: the 257th
    // arrives 3.4 s in and evicts the first socket during its last send attempt (3-4 s).
    for (const replyTo of unreachable(300)) {
      await push.send([enc({ v: 1, type: 'task', id: '1', client: `c${++sequence}`, replyTo, attempt: 1 }), enc([['10.0.0.1', 'foo']])])
      await new Promise((resolve) => setTimeout(resolve, 13))
    }
    // Every result is given up after its retries (4 × 1 s); a crash would show in the log first.
    await waitFor(() => server.stderr().includes('result dropped'), 'the worker to give up the first results', 15_000)
    await staysFalse(() => /worker process exited|crash|unhandled/i.test(server.stderr()) || server.child.exitCode !== null, 6000, 'a crash')
    server.child.kill('SIGINT')
    expect((await server.exited).code).toBe(0)
    expect(server.stdout()).toMatch(/0 workers lost/)
  }, 40_000)
})

describe('row 2: Ctrl+C on run-client --send-retries 0 with no gateway', () => {
  it('prints the partial summary and exits 130', async () => {
    const seed = await files.seed(32, 0)
    const args = [seed.commands, '-b', 'tcp://127.0.0.1:*', '-s', `ipc:///tmp/cgw-no-gateway-${process.pid}.sock`, '--send-retries', '0', '--retry-delay', '3000']
    const client = startCli('run-client', [...args, '--log-level', 'debug'])
    clis.push(client)
    // Its first send now waits for a gateway that is not there.
    await waitFor(() => client.stderr().includes('client ready'), 'run-client to open its sockets')
    client.child.kill('SIGINT')
    const { code } = await client.exited
    expect(client.stderr()).not.toMatch(/ENOTSOCK|unhandled/i)
    expect(code).toBe(130)
    expect(client.stdout()).toMatch(/status\s+interrupted/)
  })
})

describe('row 3: a worker that declares a capacity of 1 000 000', () => {
  it('is capped at --max-worker-capacity and gets its turn, not every batch', async () => {
    const g = await gateway({ maxWorkerCapacity: 64 })
    const rogue = await joined(g, 'rogue', 1_000_000)
    const honest = await joined(g, 'honest', 64, { autoDone: true })
    expect(g.status().workers.find((w) => w.id === 'rogue')?.capacity).toBe(64)
    const client = await handClient(g.endpoint, track)
    for (let i = 1; i <= 32; i++) await client.send(String(i))
    await waitFor(() => rogue.tasks().length + g.stats.completed === 32, 'all 32 batches to be dispatched')
    expect(rogue.tasks().length).toBeLessThanOrEqual(16)
    expect(honest.tasks().length).toBeGreaterThanOrEqual(16)
  })
})

describe('a gateway whose forked workers would declare more than --max-worker-capacity', () => {
  it('refuses to start, naming both settings', () => {
    expect(() => new Gateway({ mapFile: 'x', capacity: 128, maxWorkerCapacity: 64 })).toThrow(/capacity 128 is above maxWorkerCapacity 64/)
  })
})

describe('a worker whose batch is held elsewhere too (a resend of a straggler)', () => {
  it('keeps getting new batches while that second run waits for another worker', async () => {
    const g = await gateway()
    const only = await joined(g, 'only', 64)
    const client = await handClient(g.endpoint, track)
    await client.send('1')
    await only.nthTask(1)
    // A resend: its second run may not go to the worker that runs the first.
    await client.send('1', 'client-a', 2)
    await waitFor(() => g.stats.speculative === 1, 'the resend to be queued as a second run')
    await client.send('2')
    expect(await only.nthTask(2)).toMatchObject({ id: '2' })
    await only.send({ v: 1, type: 'done', id: '1', client: 'client-a' })
    await waitFor(() => g.stats.completed === 1 && g.queued === 0, 'batch 1 done and its waiting second run withdrawn')
  })
})

describe('a worker that still runs an earlier copy of a batch id that finished elsewhere', () => {
  it('is not given the new batch of that id until it lets the old copy go, and nothing leaks', async () => {
    const g = await gateway()
    const slow = await joined(g, 'slow', 4)
    const client = await handClient(g.endpoint, track)
    await client.send('X')
    await slow.nthTask(1)
    const fast = await joined(g, 'fast', 4, { autoDone: true })
    await client.send('X', 'client-a', 2)
    await waitFor(() => g.stats.completed === 1, 'the second run on the fast worker to finish X')
    await fast.send({ v: 1, type: 'bye', worker: 'fast' })
    await waitFor(() => g.connectedWorkers === 1, 'the fast worker to leave')
    // The client sends X again: a new batch, but the slow worker still holds the old copy of X.
    await client.send('X', 'client-a', 3)
    await staysFalse(() => slow.tasks().length > 1, 300, 'a second copy of X going to the worker that holds one')
    await slow.send({ v: 1, type: 'done', id: 'X', client: 'client-a' })
    expect(await slow.nthTask(2)).toMatchObject({ id: 'X', attempt: 3 })
    await slow.send({ v: 1, type: 'done', id: 'X', client: 'client-a' })
    await waitFor(() => g.stats.completed === 2, 'the new X to finish')
    expect([g.status().workers[0]?.inFlight, g.status().queue.heldBytes, g.queued]).toEqual([0, 0, 0])
  })
})

describe("a second run that waits for a worker", () => {
  it("does not hold up its client's other batches", async () => {
    const g = await gateway()
    const only = await joined(g, 'only', 2)
    const a = await handClient(g.endpoint, track)
    await a.send('X', 'A')
    await a.send('B0', 'B')
    await only.nthTask(2)
    await a.send('X', 'A', 2) // can run only on another worker
    await waitFor(() => g.stats.speculative === 1, 'the second run of X to wait')
    for (let i = 1; i <= 6; i++) {
      await a.send(`A${i}`, 'A')
      await a.send(`B${i}`, 'B')
    }
    await waitFor(() => g.queued === 12, 'both clients to queue six batches')
    for (let n = 3; n <= 6; n++) {
      await only.send({ v: 1, type: 'done', id: only.tasks()[n - 3]!.id as string, client: only.tasks()[n - 3]!.client as string })
      await only.nthTask(n)
    }
    const clients = only.tasks().slice(2).map((t) => t.client)
    expect(clients).toEqual(['A', 'B', 'A', 'B'])
  })

  it('makes the gateway fork another worker for it', async () => {
    const seed = await files.seed(2, 30)
    const g = await gateway({ mapFile: seed.map, maxWorkers: 2, minWorkers: 1, heartbeatIntervalMs: 500 })
    const [address] = (await readFile(seed.commands, 'utf8')).split('\n')[0]!.split(':')
    const body = enc([[address!, 'foo']])
    const client = await handClient(g.endpoint, track)
    await waitFor(() => g.connectedWorkers === 1, 'the first forked worker')
    await client.send('slow', 'client-a', 1, body)
    await waitFor(() => g.stats.dispatched === 1, 'the first run')
    await client.send('slow', 'client-a', 2, body)
    await waitFor(() => g.stats.dispatched === 2 && g.workerPids.length === 2, 'a second worker forked for the second run', 10_000)
  })
})

describe('an abort while a batch of that client runs', () => {
  it('drops its waiting second run, and counts the batch completed when it ends, not aborted as well', async () => {
    const g = await gateway()
    const worker = new HandWorker(g.workersEndpoint, 'w', 4, track)
    const client = await handClient(g.endpoint, track)
    await client.send('Y')
    await worker.nthTask(1)
    // A resend whose second run waits (no other worker): it goes with the abort, Y itself runs on.
    await client.send('Y', 'client-a', 2)
    await waitFor(() => g.stats.speculative === 1, 'the second run of Y to wait')
    const aborted = new Promise<{ dropped: number }>((resolve) => g.once('abort', resolve))
    await client.abort('client-a')
    expect((await aborted).dropped).toBe(0)
    await worker.send({ v: 1, type: 'done', id: 'Y', client: 'client-a' })
    await waitFor(() => g.stats.completed === 1, 'Y to finish')
    expect(g.stats.aborted).toBe(0)
  })
})

describe('forked worker ids', () => {
  it('carry a random part, so no remote worker can say ready under the next one before it does', async () => {
    const seed = await files.seed(2, 0)
    const g = await gateway({ mapFile: seed.map, maxWorkers: 1 })
    const ready = await new Promise<{ id: string }>((resolve) => g.once('worker:ready', resolve))
    expect(ready.id).toMatch(/^gw[0-9a-f]{6}-w1-[0-9a-f]{8}$/)
    expect(g.status().workers[0]).toMatchObject({ id: ready.id, kind: 'forked' })
  })
})

describe('row 4: a worker that says ready four times during a run', () => {
  it('uses up nobody\'s attempts: no batch is rejected attempts-exhausted', async () => {
    const g = await gateway({ maxAttempts: 3 })
    const rogue = await joined(g, 'rogue', 64)
    const client = await handClient(g.endpoint, track)
    for (let i = 1; i <= 32; i++) await client.send(String(i))
    await rogue.nthTask(32)
    for (let n = 1; n <= 4; n++) {
      await rogue.send({ v: 1, type: 'ready', worker: 'rogue', capacity: 64 })
      await rogue.nthTask(32 * (n + 1))
    }
    // Then it goes, holding all 32: that loss counts one run each, and they run elsewhere.
    rogue.dealer.close()
    const honest = new HandWorker(g.workersEndpoint, 'honest', 64, track, { autoDone: true })
    await waitFor(() => g.stats.completed === 32, 'the honest worker to finish every batch', 5000)
    expect(g.stats.rejected['attempts-exhausted']).toBe(0)
    expect(honest.tasks().length).toBeGreaterThan(0)
  })
})

describe('row 5: a worker that takes batches and never says done', () => {
  it('loses them to a client\'s resend: the resend runs on another worker (speculative re-execution)', async () => {
    const g = await gateway()
    const hoarder = await joined(g, 'hoarder', 64)
    const client = await handClient(g.endpoint, track)
    for (let i = 1; i <= 8; i++) await client.send(String(i))
    await hoarder.nthTask(8)
    const honest = await joined(g, 'honest', 64, { autoDone: true })
    // The client's result timeout passed: it resends all 8.
    for (let i = 1; i <= 8; i++) await client.send(String(i), 'client-a', 2)
    await waitFor(() => g.stats.completed === 8, 'every resend to run on the honest worker', 5000)
    expect(honest.tasks().map((t) => t.attempt)).toEqual(Array(8).fill(2))
    expect([g.stats.speculative, g.stats.duplicates]).toEqual([8, 0])
  })

  it('cannot make a real client lose anything: the client resends what it holds, and the resends run elsewhere', async () => {
    const g = await gateway()
    const hoarder = await joined(g, 'hoarder', 64, { heartbeatMs: 50 })
    const honest = new Worker({ gateway: g.workersEndpoint, executor: () => Promise.resolve(1), id: 'honest' })
    onTestFinished(() => honest.close({ force: true }))
    const joinedHonest = new Promise<void>((resolve) => g.on('worker:ready', ({ id }) => id === 'honest' && resolve()))
    honest.start()
    await withDeadline(joinedHonest, 5000, 'the honest worker to join')
    const commands = await files.write('commands.txt', Array.from({ length: 128 }, (_, i) => `10.0.0.${i % 250}:foo`))
    const client = new Client({ servers: [g.endpoint], bind: 'tcp://127.0.0.1:*', batchSize: 16, resultTimeoutMs: 500 })
    const summary = await client.run(commands)
    // Round-robin gave the hoarder about half of the 8 batches; it answered none of them.
    expect(hoarder.tasks().length).toBeGreaterThan(0)
    expect([summary.counts.ok, summary.counts.lost, summary.total]).toEqual([128, 0, 128])
    expect(summary.resends).toBeGreaterThan(0)
    expect(g.stats.speculative).toBe(hoarder.tasks().length)
  })

  it('a resend of a batch that is still queued stays dropped: its first copy will run', async () => {
    const g = await gateway()
    const client = await handClient(g.endpoint, track)
    await client.send('9')
    await client.send('9', 'client-a', 2)
    await waitFor(() => g.stats.duplicates === 1, 'the resend to be dropped')
    const worker = new HandWorker(g.workersEndpoint, 'w', 64, track, { autoDone: true })
    await waitFor(() => g.stats.completed === 1, 'batch 9 to run', 5000)
    expect(worker.tasks().map((t) => [t.id, t.attempt])).toEqual([['9', 1]])
  })

  it('are taken back after --hold-timeout, and the hoarder is dropped', async () => {
    const g = await gateway({ holdTimeoutMs: 400 })
    const hoarder = await joined(g, 'hoarder', 64, { heartbeatMs: 50 })
    const client = await handClient(g.endpoint, track)
    await client.send('1')
    await hoarder.nthTask(1)
    const honest = new HandWorker(g.workersEndpoint, 'honest', 64, track, { autoDone: true })
    const lost = new Promise<{ reason: string }>((resolve) => g.once('worker:lost', resolve))
    expect((await lost).reason).toBe('hold-timeout')
    await waitFor(() => g.stats.completed === 1, 'the batch to run on the honest worker', 5000)
    expect(honest.tasks()[0]).toMatchObject({ id: '1', attempt: 2 })
  })

  it('holds bytes that count against --queue-bytes: the intake stops reading', async () => {
    const body = enc(Array.from({ length: 100 }, (_, i) => [`10.0.${Math.floor(i / 250)}.${i % 250}`, 'x'.repeat(90)]))
    const g = await gateway({ queueBytes: body.length * 10 })
    const hoarder = await joined(g, 'hoarder', 64)
    const client = await handClient(g.endpoint, track)
    for (let i = 1; i <= 40; i++) await client.send(String(i), 'client-a', 1, body)
    await hoarder.nthTask(10)
    await staysFalse(() => g.stats.received > 11, 500, 'the intake reading past its byte bound')
    expect(g.status().queue.heldBytes).toBe(body.length * 10)
  })
})

describe('row 6: a connection that claims a live worker\'s id', () => {
  it('with that routing id and no ready: gets nothing (no ROUTER handover)', async () => {
    const g = await gateway()
    const honest = await joined(g, 'w1', 64, { autoDone: true })
    const thief = track(new Dealer({ routingId: 'w1', linger: 0 }))
    const stolen: Buffer[][] = []
    thief.connect(g.workersEndpoint)
    void (async () => {
      for await (const frames of thief) stolen.push(frames)
    })().catch(() => undefined)
    await thief.send(enc({ v: 1, type: 'heartbeat' }))
    const client = await handClient(g.endpoint, track)
    for (let i = 1; i <= 8; i++) await client.send(String(i))
    await waitFor(() => g.stats.completed === 8, 'the honest worker to get every batch')
    expect([honest.tasks().length, stolen.length]).toEqual([8, 0])
  })

  it('with its own routing id and a ready naming that id: is refused, counted, and gets nothing', async () => {
    const g = await gateway()
    const honest = await joined(g, 'w1', 64, { autoDone: true })
    const refused = new Promise<{ id: string; reason: string }>((resolve) => g.once('worker:refused', resolve))
    const thief = new HandWorker(g.workersEndpoint, 'w1', 64, track, { routingId: 'thief' })
    expect(await refused).toEqual({ id: 'w1', reason: 'id-in-use' })
    const client = await handClient(g.endpoint, track)
    for (let i = 1; i <= 8; i++) await client.send(String(i))
    await waitFor(() => g.stats.completed === 8, 'the honest worker to get every batch')
    expect([honest.tasks().length, thief.tasks().length, g.stats.workersRefused, g.connectedWorkers]).toEqual([8, 0, 1, 1])
  })
})

describe('row 8: batch keys that a separator would make collide', () => {
  it('keeps client "k" batch "a\\nb" and client "k\\na" batch "b" apart: both run', async () => {
    const g = await gateway()
    const worker = new HandWorker(g.workersEndpoint, 'w', 64, track, { autoDone: true })
    const client = await handClient(g.endpoint, track)
    await client.send('a\nb', 'k')
    await client.send('b', 'k\na')
    await waitFor(() => g.stats.completed === 2, 'both batches to run')
    expect(worker.tasks().map((t) => [t.client, t.id])).toEqual([['k', 'a\nb'], ['k\na', 'b']])
    expect(g.stats.duplicates).toBe(0)
  })
})

describe('row 13: a flood of abort messages', () => {
  it('is logged a few lines a second, with a count of the rest, not a line each', async () => {
    const lines: string[] = []
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter((l) => l.length > 0))
        done()
      },
    })
    const g = await gateway({ logger: pino({ level: 'info' }, sink) })
    const client = await handClient(g.endpoint, track)
    for (let i = 0; i < 2000; i++) await client.abort(`c${i}`)
    await waitFor(() => lines.some((l) => l.includes('more not logged')), 'the count of abort lines held back', 5000)
    const aborts = lines.filter((l) => l.includes('client aborted'))
    expect(aborts.length).toBeLessThan(40)
  })
})
