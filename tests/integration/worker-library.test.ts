/**
 * The Worker class as a library user meets it, in this process, under a
 * gateway played by a ROUTER: its events, an executor loaded from a module,
 * the executor's close(), and the gateway's cancel. Real sockets.
 */
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { linesLogger, unhandledDuring } from '../helpers/unhandled.js'
import { Pull, type Router } from 'zeromq'
import { Worker, type Executor } from '../../dist/index.js'
import { loadExecutor } from '../../dist/executors/load.js'
import { decodeMessage, enc, receiveWithin, withDeadline, type Header } from '../helpers/independent-cgp.js'
import { handRouter } from '../helpers/hand-peers.js'
import { waitFor } from '../helpers/processes.js'

const sockets: { close(): void }[] = []
const workers: Worker[] = []
let sequence = 0

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.close({ force: true })))
  for (const socket of sockets.splice(0)) socket.close()
})

function track<T extends { close(): void }>(socket: T): T {
  sockets.push(socket)
  return socket
}

/**
 * A ROUTER playing the gateway, recording what the worker sends it, and a bound
 * PULL playing a client. `task` hands the worker's latest connection a batch.
 */
async function handGateway() {
  const { router, endpoint } = await handRouter(track)
  const replies = track(new Pull({ linger: 0 }))
  await replies.bind('tcp://127.0.0.1:*')
  const fromWorker: { identity: Buffer; header: Header }[] = []
  void (async () => {
    for await (const [identity, ...rest] of router) fromWorker.push({ identity: identity!, header: decodeMessage(rest).header! })
  })().catch(() => undefined)
  const of = (type: string): Header[] => fromWorker.filter((m) => m.header.type === type).map((m) => m.header)
  const task = async (id: string, addresses: string[], client = 'c'): Promise<void> => {
    await waitFor(() => of('ready').length > 0, 'the worker to say ready')
    const identity = fromWorker.filter((m) => m.header.type === 'ready').at(-1)!.identity
    await sendTo(router, identity, { v: 1, type: 'task', id, client, replyTo: replies.lastEndpoint!, attempt: 1 }, addresses)
  }
  const toLatest = async (header: Header): Promise<void> => {
    const identity = fromWorker.filter((m) => m.header.type === 'ready').at(-1)!.identity
    await router.send([identity, enc(header)])
  }
  return { endpoint, replies, of, task, toLatest }
}

function sendTo(router: Router, identity: Buffer, header: Header, addresses: string[]): Promise<void> {
  return router.send([identity, enc(header), enc(addresses.map((a) => [a, 'foo']))])
}

function worker(endpoint: string, executor: Executor, options: Partial<ConstructorParameters<typeof Worker>[0]> = {}): Worker {
  const w = new Worker({ gateway: endpoint, executor, id: `lib-${++sequence}`, ...options })
  workers.push(w)
  return w
}

describe("a Worker's ready event", () => {
  it('reaches a listener attached right after start() returns, and never fires inside start()', async () => {
    const { endpoint, of } = await handGateway()
    const w = worker(endpoint, () => Promise.resolve(1))
    let early = 0
    w.on('ready', () => early++)
    w.start()
    expect(early).toBe(0)
    const ready = once(w, 'ready')
    await withDeadline(ready, 3000, "the worker's ready event")
    expect(early).toBe(1)
    await waitFor(() => of('ready').length === 1, 'the ready frame at the gateway')
    expect(of('ready')[0]).toEqual({ v: 1, type: 'ready', worker: w.id, capacity: 64 })
  })

  it('fires again after gateway:lost, once the worker has reconnected and said ready again', async () => {
    const { endpoint, of } = await handGateway()
    const w = worker(endpoint, () => Promise.resolve(1), { heartbeatIntervalMs: 50, heartbeatLiveness: 2 })
    const events: string[] = []
    w.start()
    w.on('ready', () => events.push('ready'))
    w.on('gateway:lost', () => events.push('gateway:lost'))
    // The hand gateway never answers: the worker gives it up after 2 silent intervals.
    await waitFor(() => events.length >= 3, 'ready, lost, ready again', 5000)
    expect(events.slice(0, 3)).toEqual(['ready', 'gateway:lost', 'ready'])
    expect(w.stats.reconnects).toBeGreaterThanOrEqual(1)
    expect(of('ready').length).toBeGreaterThanOrEqual(2)
  })
})

describe("a Worker whose ready listener throws", () => {
  it('logs the error, makes no unhandled rejection, and still serves its gateway', async () => {
    const { endpoint, replies, task } = await handGateway()
    const { logger, lines } = linesLogger()
    const unhandled = await unhandledDuring(async () => {
      const w = worker(endpoint, () => Promise.resolve(7), { logger })
      let calls = 0
      w.on('ready', () => {
        calls++
        throw new Error('listener broke')
      })
      w.start()
      await waitFor(() => calls === 1, 'the ready listener to run')
      await task('b1', ['10.0.0.1'])
      expect((await receiveWithin(replies, 3000))?.body).toEqual([[0, 7]])
      expect(lines.some((line) => line.includes('listener broke'))).toBe(true)
    })
    expect(unhandled).toEqual([])
  })
})

describe("a Worker whose batch:done listener throws", () => {
  it('logs the error, makes no unhandled rejection, and a stop() after its last batch still closes', async () => {
    const { endpoint, replies, task, of } = await handGateway()
    const { logger, lines } = linesLogger()
    const unhandled = await unhandledDuring(async () => {
      // The command ends only once stop() has begun, so stopping waits for this batch's release.
      let finish!: () => void
      const w = worker(endpoint, () => new Promise((resolve) => (finish = () => resolve(7))), { logger })
      w.on('batch:done', () => {
        throw new Error('done listener broke')
      })
      w.start()
      await task('b1', ['10.0.0.1'])
      await waitFor(() => w.holding === 1, 'the worker to hold the batch')
      const stopped = w.stop()
      finish()
      expect((await receiveWithin(replies, 3000))?.body).toEqual([[0, 7]])
      await withDeadline(stopped, 3000, 'stop() to resolve')
      await waitFor(() => of('bye').length === 1, 'its bye at the gateway')
      expect(lines.some((line) => line.includes('done listener broke'))).toBe(true)
    })
    expect(unhandled).toEqual([])
  })
})

describe('a Worker running an executor loaded from a module', () => {
  it('answers every command through that module', async () => {
    const { endpoint, replies, task } = await handGateway()
    const tag = randomBytes(6).toString('hex')
    const id = `lib-loaded-${++sequence}`
    const executor = await loadExecutor({ module: 'tests/fixtures/tagging-executor.mjs', options: { tag } }, { workerId: id, logger: pino({ level: 'silent' }) })
    const w = worker(endpoint, executor, { id })
    w.start()
    await task('b1', ['10.0.0.1', '10.0.0.2'])
    const result = await receiveWithin(replies, 3000)
    expect(result?.header).toMatchObject({ type: 'result', id: 'b1', worker: id })
    expect(result?.body).toEqual([
      [0, `${tag}|${id}|${process.pid}|10.0.0.1|foo`],
      [0, `${tag}|${id}|${process.pid}|10.0.0.2|foo`],
    ])
  })
})

/** An executor whose commands run until the test ends them (or their signal aborts them), with a close() that records when it came. */
function closableExecutor() {
  const running = new Set<() => void>()
  const closes: { runningThen: number }[] = []
  const executor = ((_address: string, _command: string, signal: AbortSignal) =>
    new Promise((resolve, reject) => {
      const finish = (): void => {
        running.delete(finish)
        resolve(1)
      }
      running.add(finish)
      signal.addEventListener('abort', () => (running.delete(finish), reject(signal.reason)), { once: true })
    })) as Executor
  executor.close = async () => {
    closes.push({ runningThen: running.size })
  }
  return { executor, running, closes }
}

describe("a Worker's executor close()", () => {
  it('is called once, after the last command ended, however often and however the worker is told to close', async () => {
    const { endpoint, replies, task } = await handGateway()
    const { executor, running, closes } = closableExecutor()
    const w = worker(endpoint, executor)
    w.start()
    await task('b1', ['10.0.0.1', '10.0.0.2'])
    await waitFor(() => running.size === 2, 'both commands to run')
    const closing = [w.stop(), w.close(), w.stop()]
    await waitFor(() => w.holding === 1, 'still holding the batch while it runs', 1000)
    expect(closes).toEqual([])
    for (const finish of [...running]) finish()
    await Promise.all(closing)
    await w.close({ force: true })
    await w.close()
    expect(closes).toEqual([{ runningThen: 0 }])
    expect((await receiveWithin(replies, 2000))?.header).toMatchObject({ type: 'result', id: 'b1' })
  })

  it('is called once on a forced close too, after the aborted commands ended and before close() resolves', async () => {
    const { endpoint, task } = await handGateway()
    const { executor, running, closes } = closableExecutor()
    const w = worker(endpoint, executor, { concurrency: 1 })
    w.start()
    await task('b1', ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
    await waitFor(() => running.size === 1, 'the first command to run')
    await Promise.all([w.close({ force: true }), w.close({ force: true })])
    expect(closes).toEqual([{ runningThen: 0 }])
    await w.stop()
    expect(closes).toHaveLength(1)
  })

  it('failing is logged, and the worker still closes', async () => {
    const { endpoint } = await handGateway()
    const lines: string[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) })
    const executor = (() => Promise.resolve(1)) as Executor
    executor.close = () => Promise.reject(new Error('socket already gone'))
    const w = worker(endpoint, executor, { logger })
    w.start()
    await w.stop()
    expect(lines.some((line) => line.includes('executor close failed') && line.includes('socket already gone'))).toBe(true)
  })
})

describe("a Worker told by the gateway to cancel a client's commands", () => {
  it("aborts their signals and sends their result at once, code 4, then done; other clients' commands run on", async () => {
    const { endpoint, replies, task, toLatest, of } = await handGateway()
    const { executor, running } = closableExecutor()
    const w = worker(endpoint, executor)
    w.start()
    await task('b1', ['10.0.0.1', '10.0.0.2'], 'c')
    await task('b2', ['10.0.0.3'], 'd')
    await waitFor(() => running.size === 3, 'the three commands to run')
    await toLatest({ v: 1, type: 'cancel', client: 'c' })
    const cancelled = await receiveWithin(replies, 2000)
    expect(cancelled?.header).toMatchObject({ type: 'result', id: 'b1', client: 'c', attempt: 1 })
    expect(cancelled?.body).toEqual([[4, null], [4, null]])
    await waitFor(() => of('done').length === 1, 'done for the cancelled batch')
    // Its report says both commands were cancelled.
    expect(of('done')[0]).toEqual({ v: 1, type: 'done', id: 'b1', client: 'c', counts: [0, 0, 0, 0, 2], ms: expect.any(Number) })
    // The executor saw its signals fire (it let go of both commands); d's still runs.
    expect(running.size).toBe(1)
    for (const finish of [...running]) finish()
    const other = await receiveWithin(replies, 2000)
    expect(other?.header).toMatchObject({ id: 'b2', client: 'd' })
    expect(other?.body).toEqual([[0, 1]])
    expect(w.stats.malformed).toBe(0)
  })
})
