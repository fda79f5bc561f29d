/**
 * The gateway's bookkeeping of what each worker holds, driven by hand-made
 * CGP/1 peers on real sockets: a DEALER playing a worker, a PUSH and a PULL
 * playing a client, and a ROUTER playing a gateway for the Worker class.
 */
import { Writable } from 'node:stream'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { Dealer, Pull, Push, Router } from 'zeromq'
import { Client, Gateway, Worker, type Executor } from '../../dist/index.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import {
  decodeMessage,
  deeplyNestedArray,
  enc,
  extensionValues,
  hugeClaims,
  randomBytes,
  rawMap,
  receiveWithin,
  seededRandom,
  type Header,
  type Received,
} from '../helpers/independent-cgp.js'
import { expectAllGone, freePort, waitFor } from '../helpers/processes.js'
import { HandWorker, handClient, handRouter, type HandClient } from '../helpers/hand-peers.js'

let files: Fixtures
const sockets: { close(): void }[] = []
const gateways: Gateway[] = []
const workers: Worker[] = []
const workerPids: number[] = []
let sequence = 0

beforeEach(async () => {
  files = await fixtures()
})

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close()
  await Promise.all(workers.splice(0).map((worker) => worker.close({ force: true })))
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close({ force: true })))
  await expectAllGone(workerPids.splice(0))
  await files.remove()
})

function track<T extends { close(): void }>(socket: T): T {
  sockets.push(socket)
  return socket
}

/** A gateway with no forked workers, so the test's DEALERs are its only workers. */
async function brokerOnly(maxAttempts = 3): Promise<Gateway> {
  const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', maxWorkers: 0, heartbeatIntervalMs: 5000, graceMs: 0, maxAttempts })
  gateways.push(gateway)
  await gateway.start()
  return gateway
}

/** A broker-only gateway with one hand worker of capacity 1 joined, and a hand client. */
async function oneWorkerSetUp(maxAttempts = 3): Promise<{ gateway: Gateway; worker: HandWorker; client: HandClient }> {
  const gateway = await brokerOnly(maxAttempts)
  const worker = new HandWorker(gateway.workersEndpoint, `hw-${++sequence}`, 1, track)
  await waitFor(() => gateway.connectedWorkers === 1, 'the hand worker to join')
  return { gateway, worker, client: await handClient(gateway.endpoint, track) }
}

describe('a worker that says ready again', () => {
  it('is a new session: what it held is sent out again with attempt + 1, not held forever', async () => {
    const { gateway, worker, client } = await oneWorkerSetUp()
    await client.send('1')
    expect(await worker.nthTask(1)).toMatchObject({ id: '1', attempt: 1 })

    // As after a reconnect that lost the task in flight: ready again, and never `done`.
    await worker.send({ v: 1, type: 'ready', worker: worker.id, capacity: 1 })
    expect(await worker.nthTask(2)).toMatchObject({ id: '1', client: 'client-a', attempt: 2 })
    expect(gateway.stats.requeued).toBe(1)
  })

  it('never forwards an attempt beyond the protocol bound of 1 000 000, which a worker would refuse', async () => {
    const { gateway, worker, client } = await oneWorkerSetUp()
    await client.send('5', 'client-a', 1_000_000)
    expect(await worker.nthTask(1)).toMatchObject({ id: '5', attempt: 1_000_000 })
    await worker.send({ v: 1, type: 'ready', worker: worker.id, capacity: 1 })
    expect(await worker.nthTask(2)).toMatchObject({ id: '5', attempt: 1_000_000 })
  })

  it('does not use up the attempts of what it held, however often it says it: the worker is at fault, not the batch', async () => {
    const { gateway, worker, client } = await oneWorkerSetUp(1)
    await client.send('3')
    await worker.nthTask(1)
    for (let n = 2; n <= 5; n++) {
      await worker.send({ v: 1, type: 'ready', worker: worker.id, capacity: 1 })
      expect(await worker.nthTask(n)).toMatchObject({ id: '3', client: 'client-a' })
    }
    expect(gateway.stats.rejected['attempts-exhausted']).toBe(0)
  })
})

describe('a worker that dies holding a batch, max-attempts times over', () => {
  it('gets that batch rejected attempts-exhausted: a poison batch still ends', async () => {
    const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', maxWorkers: 0, heartbeatIntervalMs: 50, heartbeatLiveness: 2, graceMs: 0, maxAttempts: 2 })
    gateways.push(gateway)
    await gateway.start()
    const client = await handClient(gateway.endpoint, track)
    await client.send('3')
    for (let run = 1; run <= 2; run++) {
      // Each takes the batch and falls silent, as a worker that crashed on it would.
      const victim = new HandWorker(gateway.workersEndpoint, `victim-${++sequence}`, 1, track)
      await victim.nthTask(1)
      victim.dealer.close()
      await waitFor(() => gateway.stats.workersLost === run, `victim ${run} to be declared lost`, 5000)
    }
    const reply = await receiveWithin(client.replies, 5000)
    expect(reply?.header).toEqual({ v: 1, type: 'rejected', id: '3', client: 'client-a', reason: 'attempts-exhausted', retryable: false })
  })
})

describe('a worker that says bye while holding batches', () => {
  it('hands them back without counting a run: the next worker gets the same attempt', async () => {
    const { gateway, worker: leaving, client } = await oneWorkerSetUp()
    await client.send('7')
    expect(await leaving.nthTask(1)).toMatchObject({ id: '7', attempt: 1 })

    await leaving.send({ v: 1, type: 'bye', worker: leaving.id })
    await waitFor(() => gateway.connectedWorkers === 0, 'the gateway to forget the worker that left')
    const next = new HandWorker(gateway.workersEndpoint, `hw-${++sequence}`, 1, track)
    expect(await next.nthTask(1)).toMatchObject({ id: '7', attempt: 1 })
  })

  it('does not count a run for them: a batch handed back by bye can still be re-run within max-attempts', async () => {
    const { gateway, worker: leaving, client } = await oneWorkerSetUp(2)
    await client.send('8')
    await leaving.nthTask(1)
    await leaving.send({ v: 1, type: 'bye', worker: leaving.id })
    await waitFor(() => gateway.connectedWorkers === 0, 'the gateway to forget the worker that left')
    const next = new HandWorker(gateway.workersEndpoint, `hw-${++sequence}`, 1, track)
    await next.nthTask(1) // run 1 of 2
    await next.send({ v: 1, type: 'ready', worker: next.id, capacity: 1 }) // loses it: run 2 of 2 is allowed
    expect(await next.nthTask(2)).toMatchObject({ id: '8', attempt: 2 })
    expect(gateway.stats.rejected['attempts-exhausted']).toBe(0)
  })

  it("drops those of a client that has aborted instead of requeueing them", async () => {
    const { gateway, worker: leaving, client } = await oneWorkerSetUp()
    await client.send('9', 'client-a')
    await leaving.nthTask(1)
    await client.abort('client-a')
    await waitFor(() => gateway.stats.received === 2, 'the abort to be read')
    await leaving.send({ v: 1, type: 'bye', worker: leaving.id })
    await waitFor(() => gateway.connectedWorkers === 0, 'the gateway to forget the worker that left')
    expect(gateway.stats.aborted).toBe(1)
    expect(gateway.queued).toBe(0)
    await client.send('1', 'client-b')
    const next = new HandWorker(gateway.workersEndpoint, `hw-${++sequence}`, 1, track)
    expect(await next.nthTask(1)).toMatchObject({ id: '1', client: 'client-b' })
  })
})

describe("after a client's abort", () => {
  it("drops that client's batches that arrive later and still serves other clients", async () => {
    const gateway = await brokerOnly()
    const client = await handClient(gateway.endpoint, track)
    await client.abort('client-a')
    await waitFor(() => gateway.stats.received === 1, 'the abort to be read')
    await client.send('1', 'client-a') // e.g. a resend that was already on its way
    await client.send('2', 'client-b')
    await waitFor(() => gateway.stats.received === 3, 'both batches to be read')
    expect(gateway.stats.aborted).toBe(1)
    expect(gateway.queued).toBe(1)

    const worker = new HandWorker(gateway.workersEndpoint, `hw-${++sequence}`, 4, track)
    expect(await worker.nthTask(1)).toMatchObject({ id: '2', client: 'client-b' })
    expect(worker.tasks()).toHaveLength(1)
  })
})

describe('a gateway starting after another was SIGKILLed', () => {
  it("removes the dead gateway's worker-port file, and keeps one whose gateway still lives", async () => {
    // A process binds a socket file named as a gateway names its worker port, with its own pid, and is SIGKILLed.
    const script = `const p = require('node:path').join(require('node:os').tmpdir(), 'cgw-abcdef-' + process.pid + '-0badf00d.sock')
      require('node:net').createServer().listen(p, () => console.log(p))`
    const killed = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] })
    const deadPath = await new Promise<string>((resolve) => killed.stdout!.setEncoding('utf8').once('data', (line: string) => resolve(line.trim())))
    killed.kill('SIGKILL')
    await new Promise((resolve) => killed.once('exit', resolve))
    const livePath = join(tmpdir(), `cgw-abcdef-${process.pid}-0badf00d.sock`)
    const live = track(createServer())
    await new Promise<void>((resolve) => live.listen(livePath, resolve))
    expect([existsSync(deadPath), existsSync(livePath)]).toEqual([true, true])
    const gateway = await brokerOnly()
    expect(gateway.connectedWorkers).toBe(0)
    expect([existsSync(deadPath), existsSync(livePath)]).toEqual([false, true])
  })
})

describe('a gateway whose intake cannot bind', () => {
  it('fails start() naming the endpoint, forks no worker and leaves no socket file', async () => {
    const { map } = await files.seed(4, 0)
    const port = await freePort()
    const squatter = track(new Pull({ linger: 0 }))
    await squatter.bind(`tcp://127.0.0.1:${port}`)
    const gateway = new Gateway({ bind: `tcp://127.0.0.1:${port}`, mapFile: map, maxWorkers: 2 })
    const forked: number[] = []
    gateway.on('worker:spawn', ({ pid }) => forked.push(pid))
    await expect(gateway.start()).rejects.toThrow(`cannot bind intake tcp://127.0.0.1:${port}`)
    workerPids.push(...forked)
    expect(forked).toEqual([])
    expect(existsSync(gateway.workersEndpoint.replace('ipc://', ''))).toBe(false)
  })
})

/** A ROUTER playing the gateway for a Worker, and a bound PULL playing its client. */
async function handGatewayAndClient(): Promise<{ endpoint: string; router: Router; clientReplies: Pull; replyTo: string }> {
  const { router, endpoint } = await handRouter(track)
  const clientReplies = track(new Pull({ linger: 0 }))
  await clientReplies.bind('tcp://127.0.0.1:*')
  return { endpoint, router, clientReplies, replyTo: clientReplies.lastEndpoint! }
}

describe('a worker told to stop', () => {
  it('runs nothing that arrives after the stop and says bye once its held batch is delivered', async () => {
    const { endpoint, router, clientReplies, replyTo } = await handGatewayAndClient()

    const started: string[] = []
    let finishFirst!: () => void
    const firstMayFinish = new Promise<void>((resolve) => (finishFirst = resolve))
    const executor: Executor = async (address) => {
      started.push(address)
      await firstMayFinish
      return 1
    }
    const lines: string[] = []
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }))
    const worker = new Worker({ gateway: endpoint, executor, id: `stopper-${sequence}`, capacity: 4, logger })
    workers.push(worker)
    worker.start()

    const [identity, ready] = await router.receive()
    expect(decodeMessage([ready!]).header).toMatchObject({ type: 'ready' })
    const task = (id: string, address: string): Buffer[] => [
      identity!,
      enc({ v: 1, type: 'task', id, client: 'c', replyTo, attempt: 1 }),
      enc([[address, 'foo']]),
    ]
    await router.send(task('1', '10.0.0.1'))
    await waitFor(() => started.length === 1, 'the first command to start')
    const stopped = worker.stop()
    await router.send(task('2', '10.0.0.2'))
    await waitFor(() => lines.some((line) => line.includes('task arrived after stopping')), 'the late task to be refused')
    finishFirst()
    await stopped

    expect(started).toEqual(['10.0.0.1'])
    const result = await receiveWithin(clientReplies, 2000)
    expect(result?.header).toMatchObject({ type: 'result', id: '1' })
    const toGateway: Header[] = []
    for (;;) {
      router.receiveTimeout = 1000
      const frames = await router.receive().catch(() => null)
      if (frames === null) break
      const header = decodeMessage(frames.slice(1)).header!
      if (header.type !== 'heartbeat') toGateway.push(header)
      if (header.type === 'bye') break
    }
    expect(toGateway).toEqual([
      { v: 1, type: 'done', id: '1', client: 'c', counts: [1, 0, 0, 0, 0], ms: expect.any(Number) },
      { v: 1, type: 'bye', worker: `stopper-${sequence}` },
    ])
  })
})

describe('a worker that reconnects while it holds a batch', () => {
  it('delivers that result to the client but sends no done for it: the gateway has requeued it', async () => {
    const { endpoint, router, clientReplies, replyTo } = await handGatewayAndClient()
    const fromWorker: { identity: Buffer; header: Header }[] = []
    void (async () => {
      for await (const [identity, ...rest] of router) fromWorker.push({ identity: identity!, header: decodeMessage(rest).header! })
    })().catch(() => undefined)

    let releaseOld!: () => void
    const oldMayFinish = new Promise<void>((resolve) => (releaseOld = resolve))
    const executor: Executor = async (address) => {
      if (address === '10.0.0.1') await oldMayFinish
      return 1
    }
    const worker = new Worker({ gateway: endpoint, executor, id: `reconnector-${sequence}`, heartbeatIntervalMs: 50, heartbeatLiveness: 2 })
    workers.push(worker)
    worker.start()
    const readies = (): number => fromWorker.filter((m) => m.header.type === 'ready').length
    await waitFor(() => readies() === 1, 'the first ready')
    const identity = fromWorker[0]!.identity
    const task = (id: string, address: string, to = identity): Buffer[] => [
      to,
      enc({ v: 1, type: 'task', id, client: 'c', replyTo, attempt: 1 }),
      enc([[address, 'foo']]),
    ]
    await router.send(task('old', '10.0.0.1'))
    // Silence from the "gateway" makes the worker reconnect and say ready again.
    await waitFor(() => readies() >= 2, 'the worker to reconnect and say ready again', 5000)
    // A new connection has a new routing id (the ROUTER assigns them): reach it there.
    const again = fromWorker.filter((m) => m.header.type === 'ready').at(-1)!.identity
    const keepAlive = setInterval(() => void router.send([again, enc({ v: 1, type: 'heartbeat' })]).catch(() => undefined), 20)
    try {
      releaseOld()
      const oldResult = await receiveWithin(clientReplies, 2000)
      expect(oldResult?.header).toMatchObject({ type: 'result', id: 'old' })
      await router.send(task('new', '10.0.0.2', again))
      await waitFor(() => fromWorker.some((m) => m.header.type === 'done' && m.header.id === 'new'), 'done for the new task')
      // Both would travel on the same connection in order: a done for 'old' would be here by now.
      expect(fromWorker.filter((m) => m.header.type === 'done').map((m) => m.header.id)).toEqual(['new'])
    } finally {
      clearInterval(keepAlive)
    }
  })
})

describe('a worker whose executor returns a plain value instead of a promise', () => {
  it('answers it as code 0, as it would a resolved promise, and says done', async () => {
    const { endpoint, router, clientReplies, replyTo } = await handGatewayAndClient()
    const executor = ((address: string) => (address === '10.0.0.1' ? 42 : Promise.resolve(1))) as unknown as Executor
    const worker = new Worker({ gateway: endpoint, executor, id: `plain-${sequence}`, concurrency: 1 })
    workers.push(worker)
    worker.start()
    const [identity] = await router.receive()
    await router.send([identity!, enc({ v: 1, type: 'task', id: '1', client: 'c', replyTo, attempt: 1 }), enc([['10.0.0.1', 'foo'], ['10.0.0.2', 'foo']])])
    const result = await receiveWithin(clientReplies, 2000)
    expect(result?.header).toMatchObject({ type: 'result', id: '1' })
    expect(result?.body).toEqual([[0, 42], [0, 1]])
  })
})

/** A gateway with one forked worker on the device map `map`. */
async function gatewayWithWorker(map: string, options: Partial<ConstructorParameters<typeof Gateway>[0]> = {}): Promise<Gateway> {
  const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', mapFile: map, maxWorkers: 1, heartbeatIntervalMs: 200, graceMs: 2000, ...options })
  gateway.on('worker:spawn', ({ pid }) => workerPids.push(pid))
  gateways.push(gateway)
  await gateway.start()
  await waitFor(() => gateway.connectedWorkers === 1, 'the forked worker to join')
  return gateway
}

describe('garbage on the worker port', () => {
  it('is counted message by message, answered by nothing, and the gateway keeps serving', async () => {
    const { commands, map } = await files.seed(32, 0)
    const gateway = await gatewayWithWorker(map, { maxMessageBytes: 4096 })
    let fromWorkers = 0
    gateway.on('malformed', ({ source }) => (source === 'workers' ? fromWorkers++ : undefined))
    const random = seededRandom(5)
    const garbage: Buffer[][] = [
      ...Array.from({ length: 300 }, () => [randomBytes(random, 1 + Math.floor(random() * 64))]),
      ...extensionValues.map((value) => [value]),
      ...hugeClaims.map((claim) => [claim]),
      [deeplyNestedArray(100)],
      [enc({ v: 1, type: 'ready', worker: 'w', capacity: 'many' })],
      [enc({ v: 1, type: 'ready', worker: 'w', capacity: 0 })],
      [enc({ v: 2, type: 'ready', worker: 'w', capacity: 1 })],
      [enc({ v: 1, type: 'ready', worker: 'w'.repeat(200), capacity: 1 })],
      [enc({ v: 1, type: 'done', client: 'c' })],
      [enc({ v: 1, type: 'task', id: '1', client: 'c', replyTo: 'tcp://127.0.0.1:1', attempt: 1 })],
      [enc({ v: 1, type: 'bye' })],
      [enc({ v: 1, type: 'heartbeat' }), enc('surplus frame')],
      [rawMap([['v', enc(1)], ['type', extensionValues[0]!]])],
    ]
    const intruder = track(new Dealer({ routingId: `intruder-${++sequence}`, linger: 0 }))
    intruder.connect(gateway.workersEndpoint)
    for (const frames of garbage) await intruder.send(frames)
    await waitFor(() => fromWorkers === garbage.length, `all ${garbage.length} garbage messages to be counted`)

    // Over the size limit: ZeroMQ refuses it and drops that connection; nothing reaches the gateway.
    const oversize = track(new Dealer({ routingId: `big-${sequence}`, linger: 0 }))
    oversize.connect(gateway.workersEndpoint)
    await oversize.send(enc({ v: 1, type: 'ready', worker: 'big', capacity: 1, pad: 'x'.repeat(8192) }))
    const summary = await new Client({ servers: [gateway.endpoint], bind: 'tcp://127.0.0.1:*', batchSize: 4 }).run(commands)
    expect(summary.counts).toMatchObject({ ok: 32, lost: 0 })
    expect(fromWorkers).toBe(garbage.length)
    expect(gateway.connectedWorkers).toBe(1) // neither the intruder nor the oversize "ready" joined
  })
})

describe('clients that vanish before their results arrive', () => {
  it('do not hold up the next client; the worker frees their slots at once and drops their results after bounded retries', async () => {
    const { commands, map } = await files.seed(16, 0.3)
    // Two slots, four ghosts: had the ghosts kept their slots through their 4 send attempts of 1 s, the next client would wait.
    const gateway = await gatewayWithWorker(map, { capacity: 2 })
    const push = track(new Push({ linger: 0 }))
    push.connect(gateway.endpoint)
    for (let ghost = 1; ghost <= 4; ghost++) {
      const vanishing = new Pull({ linger: 0 })
      await vanishing.bind('tcp://127.0.0.1:*')
      const replyTo = vanishing.lastEndpoint!
      vanishing.close()
      await push.send([enc({ v: 1, type: 'task', id: String(ghost), client: `ghost-${ghost}`, replyTo, attempt: 1 }), enc([['137.72.95.0', 'foo']])])
    }
    await waitFor(() => gateway.stats.dispatched >= 2, 'the ghost batches to be dispatched')

    const started = Date.now()
    const summary = await new Client({ servers: [gateway.endpoint], bind: 'tcp://127.0.0.1:*', batchSize: 4 }).run(commands)
    expect(summary.counts).toMatchObject({ ok: 16, lost: 0 })
    expect(Date.now() - started).toBeLessThan(3000) // 4 ghosts + 4 batches on 2 slots of 0.3 s, not 4 s per ghost
    await waitFor(() => gateway.stats.completed === 8, 'every batch done')
  })
})
