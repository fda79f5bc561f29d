/**
 * The gateway's state machine as a specification, on fake time: decoded
 * events go in, and a recording effects object and a fake pool show what the
 * gateway sends, rejects, raises, forks and kills. No socket, no process.
 */
import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/log.js'
import { commandsBody } from '../../src/protocol/frames.js'
import { Limits } from '../../src/protocol/limits.js'
import type { WorkerToGatewayHeader } from '../../src/protocol/types.js'
import { GatewayCore, type GatewayEffects, type PoolPort, type Rejection } from '../../src/gateway/gateway-core.js'
import type { GatewayEvents } from '../../src/gateway/events.js'
import type { WorkerSession } from '../../src/gateway/worker-session.js'
import { resolveGatewayOptions, type GatewayOptions } from '../../src/gateway/options.js'
import { framesFor } from '../../src/gateway/worker-port.js'
import { validateGatewayHeader } from '../../src/protocol/validate.js'

const quiet = { warn: () => undefined, info: () => undefined }
const logs = { logger: silentLogger(), malformed: quiet, worker: quiet, refused: quiet, abort: quiet }
const body = commandsBody([['10.0.0.1', 'a']])

/** An event raised, with its payload (none for `closing` and `closed`). */
type Event = [name: keyof GatewayEvents, payload: unknown]

/** The forked-worker pool, by hand: spawn records, exit is the test's to call. */
class FakePool implements PoolPort {
  readonly children = new Map<string, { pid: number; ready: boolean }>()
  readonly killed: string[] = []
  backingOff = false
  private sequence = 0
  constructor(private readonly core: () => GatewayCore) {}
  get size(): number {
    return this.children.size
  }
  get starting(): number {
    return [...this.children.values()].filter((c) => !c.ready).length
  }
  spawn(): unknown {
    if (this.backingOff) return undefined
    const id = `f${++this.sequence}`
    const child = { pid: 1000 + this.sequence, ready: false }
    this.children.set(id, child)
    this.core().workerSpawned({ id, pid: child.pid })
    return child
  }
  kill(id: string): void {
    this.killed.push(id)
  }
  markReady(id: string): void {
    const child = this.children.get(id)
    if (child !== undefined) child.ready = true
  }
  get(id: string): { pid: number } | undefined {
    return this.children.get(id)
  }
  exit(id: string, code: number | null = 0): void {
    const pid = this.children.get(id)!.pid
    this.children.delete(id)
    this.core().workerExited({ id, pid, code, signal: null })
  }
}

function setUp(overrides: GatewayOptions = {}, withPool = false) {
  const options = resolveGatewayOptions({ maxWorkers: 0, heartbeatIntervalMs: 1000, heartbeatLiveness: 3, ...overrides })
  let now = 0
  const sent: string[] = []
  const stopped: string[] = []
  const rejected: Rejection[] = []
  const events: Event[] = []
  /** The session each worker id was last sent to, as the worker port's send failure would name it. */
  const sessions = new Map<string, WorkerSession>()
  const effects: GatewayEffects = {
    toWorker: (worker, message) => {
      sessions.set(worker.id, worker)
      const batch = message.type === 'task' ? message.batch : undefined
      const what = message.type === 'cancel' ? `cancel ${message.client}` : message.type
      sent.push(`${worker.id}:${batch === undefined ? what : `task ${batch.client}/${batch.id}@${batch.attempt}`}`)
    },
    stopPeer: (identity) => stopped.push(identity.toString()),
    reject: (rejection) => rejected.push(rejection),
    emit: (name, ...payload) => void events.push([name, payload[0]]),
  }
  const core = new GatewayCore(options, effects, logs, () => now)
  const pool = new FakePool(() => core)
  if (withPool) core.attachPool(pool)
  const peer = (id: string, header: WorkerToGatewayHeader): void => core.workerMessage(`key-${id}`, Buffer.from(`key-${id}`), header)
  return {
    core,
    pool,
    sent,
    stopped,
    rejected,
    events,
    sessions,
    /** Moves fake time on by `ms` and ticks, as the adapter's interval does. */
    tickAfter(ms: number): void {
      now += ms
      core.tick()
    },
    advance(ms: number): void {
      now += ms
    },
    ready: (id: string, capacity = 1) => peer(id, { v: 1, type: 'ready', worker: id, capacity }),
    done: (id: string, batch: string, client = 'c') => peer(id, { v: 1, type: 'done', id: batch, client }),
    heartbeat: (id: string) => peer(id, { v: 1, type: 'heartbeat' }),
    bye: (id: string) => peer(id, { v: 1, type: 'bye', worker: id }),
    task(id: string, client = 'c', attempt = 1, taskBody: Buffer = body): void {
      core.intake({ type: 'task', header: { v: 1, type: 'task', id, client, replyTo: 'tcp://127.0.0.1:1', attempt }, body: taskBody })
    },
    named: (name: keyof GatewayEvents) => events.filter((e) => e[0] === name).map((e) => e[1]),
  }
}

describe('a task from the intake', () => {
  it('goes to a ready worker at once, and its done completes it', () => {
    const g = setUp()
    g.ready('w', 2)
    g.task('1')
    expect(g.sent).toEqual(['w:task c/1@1'])
    g.done('w', '1')
    expect([g.core.stats.received, g.core.stats.dispatched, g.core.stats.completed, g.core.queued]).toEqual([1, 1, 1, 0])
  })

  it('waits in the queue while no worker has credit', () => {
    const g = setUp()
    g.task('1')
    g.task('2')
    expect([g.sent, g.core.queued]).toEqual([[], 2])
    g.ready('w', 1)
    g.done('w', '1')
    expect(g.sent).toEqual(['w:task c/1@1', 'w:task c/2@1'])
  })

  it('is rejected too-large beyond maxBatch commands, and malformed when its body is not command pairs', () => {
    const g = setUp({ maxBatch: 1 })
    g.task('big', 'c', 1, commandsBody([['a', 'b'], ['c', 'd']]))
    g.task('bad', 'c', 1, Buffer.from([0xc0]))
    expect(g.rejected.map((r) => `${r.id}:${r.reason}:${r.retryable}`)).toEqual(['big:too-large:false', 'bad:malformed:false'])
    expect([g.core.stats.malformed, g.named('malformed')]).toEqual([1, [{ source: 'intake', reason: expect.stringMatching(/^task bad: /) }]])
  })

  it('that is malformed is counted, and answered only when the header named where to', () => {
    const g = setUp()
    g.core.intake({ type: 'malformed', reason: 'no replyTo' })
    g.core.intake({ type: 'malformed', reason: 'extra frame', answer: { replyTo: 'tcp://127.0.0.1:1', id: '-', client: '-' } })
    expect([g.core.stats.received, g.core.stats.malformed, g.rejected.map((r) => r.reason)]).toEqual([2, 2, ['malformed']])
  })

  it('resent while a worker holds it runs beside it on another worker; the first done completes it, the other only frees its worker', () => {
    const g = setUp()
    g.ready('slow')
    g.ready('fast')
    g.task('1')
    g.task('1', 'c', 2)
    expect(g.sent).toEqual(['slow:task c/1@1', 'fast:task c/1@2'])
    g.done('fast', '1')
    g.done('slow', '1')
    expect([g.core.stats.speculative, g.core.stats.completed, g.core.stats.duplicates]).toEqual([1, 1, 0])
  })

  it('resent while it still waits is a duplicate', () => {
    const g = setUp()
    g.task('1')
    g.task('1', 'c', 2)
    expect([g.core.queued, g.core.stats.duplicates]).toEqual([1, 1])
  })
})

describe('a client that aborts', () => {
  it('has its queued batches dropped, and its batches that arrive later dropped too', () => {
    const g = setUp()
    g.task('1', 'a')
    g.task('2', 'a')
    g.task('1', 'b')
    g.core.intake({ type: 'abort', client: 'a' })
    expect([g.named('abort'), g.core.queued]).toEqual([[{ client: 'a', dropped: 2 }], 1])
    g.task('3', 'a')
    expect([g.core.queued, g.core.stats.aborted, g.rejected]).toEqual([1, 3, []])
  })

  it('gets a cancel sent once to every worker that holds one of its batches, and to no other', () => {
    const g = setUp()
    g.ready('w1', 2)
    g.task('1', 'a')
    g.task('2', 'a')
    g.ready('w2')
    g.task('1', 'b')
    g.ready('w3')
    g.task('3', 'a')
    g.task('4', 'a')
    expect(g.sent).toEqual(['w1:task a/1@1', 'w1:task a/2@1', 'w2:task b/1@1', 'w3:task a/3@1'])
    g.core.intake({ type: 'abort', client: 'a' })
    expect(g.sent.slice(4)).toEqual(['w1:cancel a', 'w3:cancel a'])
    expect([g.core.stats.cancelsSent, g.core.stats.aborted, g.core.queued]).toEqual([2, 1, 0])
    // The cancelled batches' results still go out, then done: they complete, nothing is requeued.
    g.done('w1', '1', 'a')
    g.done('w1', '2', 'a')
    g.done('w3', '3', 'a')
    expect([g.core.stats.completed, g.core.stats.requeued, g.core.queued, g.sent.length]).toEqual([3, 0, 0, 6])
  })

  it('gets no cancel sent when no worker holds a batch of it (any more)', () => {
    const g = setUp()
    g.ready('w')
    g.task('1', 'a')
    g.done('w', '1', 'a')
    g.task('1', 'b')
    g.core.intake({ type: 'abort', client: 'a' })
    g.core.intake({ type: 'abort', client: 'nobody' })
    expect(g.sent).toEqual(['w:task a/1@1', 'w:task b/1@1'])
    expect(g.core.stats.cancelsSent).toBe(0)
  })

  it('gets a cancel sent to both workers running copies of one of its batches (a second run)', () => {
    const g = setUp()
    g.ready('w1')
    g.ready('w2')
    g.task('1', 'a')
    // The resend after the client's result timeout runs beside the first copy.
    g.task('1', 'a', 2)
    expect(g.sent).toEqual(['w1:task a/1@1', 'w2:task a/1@2'])
    g.core.intake({ type: 'abort', client: 'a' })
    expect(g.sent.slice(2)).toEqual(['w1:cancel a', 'w2:cancel a'])
    expect(g.core.stats.cancelsSent).toBe(2)
  })

  it('does not get a held batch of its run again when that worker is lost', () => {
    const g = setUp()
    g.ready('w')
    g.task('1', 'a')
    g.core.intake({ type: 'abort', client: 'a' })
    g.tickAfter(3001)
    expect([g.named('worker:lost'), g.core.queued, g.core.stats.aborted]).toEqual([[{ id: 'w', reason: 'heartbeat', requeued: 0 }], 0, 1])
  })
})

describe('the cancel the worker port sends', () => {
  it('is one CGP/1 frame {v: 1, type: "cancel", client} that a worker accepts', () => {
    const frames = framesFor({ type: 'cancel', client: 'a' })
    expect(frames).toHaveLength(1)
    const validated = validateGatewayHeader(frames[0]!)
    expect(validated).toEqual({ ok: true, header: { v: 1, type: 'cancel', client: 'a' } })
  })
})

describe('a worker that says ready', () => {
  it('is granted at most maxWorkerCapacity, and never holds more', () => {
    const g = setUp({ maxWorkerCapacity: 2, capacity: 2 })
    g.ready('rogue', 1_000_000)
    for (const id of ['1', '2', '3']) g.task(id)
    expect([g.named('worker:ready'), g.sent.length, g.core.queued]).toEqual([[{ id: 'rogue', capacity: 2 }], 2, 1])
  })

  it('again gets what it held sent out again with attempt + 1, and no run counted, however often', () => {
    const g = setUp({ maxAttempts: 1 })
    g.ready('w')
    g.task('1')
    for (let n = 0; n < 4; n++) g.ready('w')
    expect(g.sent).toEqual(['w:task c/1@1', 'w:task c/1@2', 'w:task c/1@3', 'w:task c/1@4', 'w:task c/1@5'])
    expect([g.core.stats.requeued, g.rejected]).toEqual([4, []])
  })

  it('is refused when another live connection has its id, or too many workers are connected', () => {
    const g = setUp({ maxConnectedWorkers: 1 })
    g.ready('w')
    g.core.workerMessage('intruder', Buffer.from('intruder'), { v: 1, type: 'ready', worker: 'w', capacity: 1 })
    g.ready('other')
    expect(g.named('worker:refused')).toEqual([{ id: 'w', reason: 'id-in-use' }, { id: 'other', reason: 'too-many-workers' }])
    expect([g.core.stats.workersRefused, g.core.connectedWorkers]).toEqual([2, 1])
  })

  it('during shutdown is told to stop at once, and not registered', () => {
    const g = setUp()
    g.core.beginClose()
    g.ready('late')
    expect([g.stopped, g.core.connectedWorkers]).toEqual([['key-late'], 0])
  })
})

describe('a worker that leaves or goes quiet', () => {
  it('saying bye gets what it held requeued with the same attempt, no run counted', () => {
    const g = setUp({ maxAttempts: 2 })
    g.ready('w')
    g.task('1')
    g.bye('w')
    g.ready('v')
    expect(g.sent).toEqual(['w:task c/1@1', 'v:task c/1@1'])
    expect([g.core.stats.requeued, g.core.stats.workersLost, g.core.connectedWorkers]).toEqual([1, 0, 1])
    // Its one counted run is v's: losing v leaves it a second one.
    g.tickAfter(3001)
    expect([g.rejected, g.core.stats.requeued, g.core.queued]).toEqual([[], 2, 1])
  })

  it('is sent a heartbeat at the first tick after it joins, then after every interval in which nothing went to it', () => {
    // It has heard nothing from the gateway yet and counts its silence from when it connected:
    // waiting a whole interval first would spend most of a heartbeatLiveness of 2 before a word.
    const g = setUp()
    g.ready('w')
    g.tickAfter(1)
    expect(g.sent).toEqual(['w:heartbeat'])
    g.tickAfter(500)
    g.tickAfter(499)
    expect(g.sent).toEqual(['w:heartbeat'])
    g.tickAfter(1)
    expect(g.sent).toEqual(['w:heartbeat', 'w:heartbeat'])
    g.tickAfter(500)
    expect(g.sent).toEqual(['w:heartbeat', 'w:heartbeat'])
  })

  it('is lost after heartbeatLiveness silent intervals, and what it held goes out again with attempt + 1', () => {
    const g = setUp()
    g.ready('w')
    g.ready('v')
    g.task('1')
    g.heartbeat('v')
    for (let t = 0; t < 6; t++) g.tickAfter(500)
    g.heartbeat('v')
    expect(g.named('worker:lost')).toEqual([])
    g.tickAfter(1)
    expect(g.named('worker:lost')).toEqual([{ id: 'w', reason: 'heartbeat', requeued: 1 }])
    expect(g.sent.filter((s) => s.includes('task'))).toEqual(['w:task c/1@1', 'v:task c/1@2'])
  })

  it('sitting on a batch past holdTimeoutMs is dropped even though it heartbeats', () => {
    const g = setUp({ holdTimeoutMs: 2000 })
    g.ready('hoarder')
    g.task('1')
    for (let t = 0; t < 4; t++) {
      g.tickAfter(500)
      g.heartbeat('hoarder')
    }
    expect(g.named('worker:lost')).toEqual([])
    g.tickAfter(1)
    expect(g.named('worker:lost')).toEqual([{ id: 'hoarder', reason: 'hold-timeout', requeued: 1 }])
  })

  it('that cannot be sent to is lost, and what it held goes out again; a failed send to a session since replaced is ignored', () => {
    const g = setUp()
    g.ready('w')
    g.ready('v')
    g.task('1')
    g.core.workerUnreachable(g.sessions.get('w')!, 'EAGAIN')
    expect(g.named('worker:lost')).toEqual([{ id: 'w', reason: 'unreachable', requeued: 1 }])
    expect(g.sent.at(-1)).toBe('v:task c/1@2')
    const old = g.sessions.get('v')!
    g.bye('v')
    g.ready('v')
    g.core.workerUnreachable(old, 'EAGAIN')
    expect([g.named('worker:lost').length, g.core.connectedWorkers]).toEqual([1, 1])
  })

  it('killing every worker it meets gets a poison batch rejected attempts-exhausted after maxAttempts runs', () => {
    const g = setUp({ maxAttempts: 2 })
    for (const id of ['a', 'b']) {
      g.ready(id)
      if (id === 'a') g.task('poison')
      g.tickAfter(3001)
    }
    expect(g.rejected.map((r) => `${r.id}:${r.reason}:${r.retryable}`)).toEqual(['poison:attempts-exhausted:false'])
    expect(g.core.stats.workersLost).toBe(2)
  })
})

describe('the forked-worker pool', () => {
  it('starts minWorkers, and grows one at a time while work waits and no worker has credit', () => {
    const g = setUp({ maxWorkers: 3, minWorkers: 1, mapFile: 'unused.txt' }, true)
    g.core.start()
    expect([g.pool.size, g.named('worker:spawn')]).toEqual([1, [{ id: 'f1', pid: 1001 }]])
    g.task('1')
    g.task('2')
    expect(g.pool.size).toBe(1) // f1 is still starting
    g.ready('f1')
    expect(g.pool.size).toBe(2)
    g.ready('f2')
    expect([g.pool.size, g.core.queued]).toEqual([2, 0])
  })

  it('reaps what it forks: a forked worker lost to silence is SIGKILLed, and one that exits is replaced', () => {
    const g = setUp({ maxWorkers: 2, minWorkers: 1, mapFile: 'unused.txt' }, true)
    g.core.start()
    g.ready('f1')
    g.tickAfter(3001)
    expect([g.named('worker:lost'), g.pool.killed]).toEqual([[{ id: 'f1', reason: 'heartbeat', requeued: 0 }], ['f1']])
    g.pool.exit('f1', null)
    expect([g.named('worker:exit').length, g.pool.size]).toEqual([1, 1])
    g.ready('f2')
    g.pool.exit('f2', 1)
    expect(g.named('worker:lost')).toEqual([
      { id: 'f1', reason: 'heartbeat', requeued: 0 },
      { id: 'f2', reason: 'exited', requeued: 0 },
    ])
    expect([g.pool.killed, g.pool.size]).toEqual([['f1'], 1])
  })

  it('retires an idle forked worker beyond minWorkers with the poison pill, and kills it if it has not left after graceMs', () => {
    const g = setUp({ maxWorkers: 2, minWorkers: 1, idleTimeoutMs: 5000, graceMs: 1000, mapFile: 'unused.txt' }, true)
    g.core.start()
    g.ready('f1')
    g.task('1')
    g.task('2')
    g.ready('f2')
    g.done('f1', '1')
    g.done('f2', '2')
    g.heartbeat('f2')
    for (let t = 0; t < 9; t++) {
      g.tickAfter(500)
      g.heartbeat('f1')
      g.heartbeat('f2')
    }
    expect(g.named('worker:retire')).toEqual([])
    g.tickAfter(500)
    expect(g.named('worker:retire')).toEqual([{ id: 'f1', idleMs: 5000 }])
    expect([g.sent.at(-1), g.core.connectedWorkers]).toEqual(['f1:stop', 1])
    g.ready('f1') // a retired worker that says ready again is told to stop, not registered
    expect(g.stopped).toEqual(['key-f1'])
    g.tickAfter(1000)
    expect(g.pool.killed).toEqual([])
    g.tickAfter(1)
    expect(g.pool.killed).toEqual(['f1'])
  })

  it('reports how long a retired worker was idle in whole milliseconds', () => {
    const g = setUp({ maxWorkers: 2, minWorkers: 1, idleTimeoutMs: 1000, mapFile: 'unused.txt' }, true)
    g.core.start()
    g.ready('f1')
    g.task('1')
    g.task('2') // waits: the pool forks f2 for it
    g.ready('f2')
    g.advance(0.3)
    g.done('f1', '1')
    g.done('f2', '2')
    g.tickAfter(1000.4)
    expect(g.named('worker:retire')).toEqual([{ id: 'f1', idleMs: 1000 }])
  })

  it('does not fork while the pool backs off after crashes', () => {
    const g = setUp({ maxWorkers: 2, minWorkers: 2, mapFile: 'unused.txt' }, true)
    g.pool.backingOff = true
    g.core.start()
    expect(g.pool.size).toBe(0)
    g.pool.backingOff = false
    g.tickAfter(500)
    expect(g.pool.size).toBe(2)
  })
})

describe('shutdown', () => {
  it('rejects what waits shutting-down (retryable), stops every worker, and answers what they still hold at the end', () => {
    const g = setUp()
    g.ready('w')
    g.task('held')
    g.task('queued')
    g.core.beginClose()
    expect(g.named('closing')).toEqual([undefined])
    expect(g.rejected.map((r) => `${r.id}:${r.reason}:${r.retryable}`)).toEqual(['queued:shutting-down:true'])
    expect(g.sent.at(-1)).toBe('w:stop')
    g.task('late')
    expect(g.rejected.map((r) => r.id)).toEqual(['queued', 'late'])
    expect(g.core.drained).toBe(false)
    g.core.finishClose()
    expect(g.rejected.map((r) => r.id)).toEqual(['queued', 'late', 'held'])
    expect([g.core.drained, g.core.connectedWorkers]).toEqual([true, 0])
  })

  it('forks nothing more', () => {
    const g = setUp({ maxWorkers: 2, minWorkers: 1, mapFile: 'unused.txt' }, true)
    g.core.start()
    g.core.beginClose()
    g.pool.exit('f1')
    g.tickAfter(500)
    expect(g.pool.size).toBe(0)
  })
})

describe('the status snapshot', () => {
  it('shows the queue per client, each worker with what it holds and how long it has been silent, and the pool', () => {
    const g = setUp({ maxWorkerCapacity: Limits.maxCounter })
    g.ready('w', 1)
    g.task('1', 'a')
    g.task('2', 'a')
    g.task('1', 'b')
    g.advance(250)
    const s = g.core.snapshot()
    expect(s.queue).toMatchObject({ batches: 2, clientCount: 2, clients: [{ client: 'a', batches: 1 }, { client: 'b', batches: 1 }] })
    expect(s.workers).toEqual([{ id: 'w', kind: 'remote', capacity: 1, inFlight: 1, lastHeardMs: 250, served: 0 }])
    expect(s.counters.received).toBe(3)
  })

  it('gives times in whole milliseconds, as before the monotonic clock (it reads fractions)', () => {
    const g = setUp()
    g.advance(0.25)
    g.ready('w', 1)
    g.advance(249.6)
    expect(g.core.snapshot().workers[0]!.lastHeardMs).toBe(250)
  })
})
