/**
 * What the gateway's core counts and times for its metrics, on fake time:
 * commands taken in, commands and check states from the workers' `done`,
 * malformed messages by socket, and the observer's queue waits and batch
 * durations. No socket, no process, no prom-client.
 */
import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/log.js'
import { commandsBody } from '../../src/protocol/frames.js'
import type { DoneHeader, OutcomeCounts, StateCounts } from '../../src/protocol/types.js'
import { GatewayCore, type GatewayEffects } from '../../src/gateway/gateway-core.js'
import { resolveGatewayOptions, type GatewayOptions } from '../../src/gateway/options.js'

function setUp(overrides: GatewayOptions = {}) {
  const options = resolveGatewayOptions({ maxWorkers: 0, heartbeatIntervalMs: 1000, ...overrides })
  let now = 0
  const waits: number[] = []
  const durations: number[] = []
  const warnings: string[] = []
  const line = { warn: (_: unknown, message: string) => void warnings.push(message), info: () => undefined }
  const logs = { logger: silentLogger(), malformed: line, worker: line, refused: line, abort: line }
  const effects: GatewayEffects = {
    toWorker: () => undefined,
    stopPeer: () => undefined,
    reject: () => undefined,
    emit: () => undefined,
    observe: { queueWait: (ms) => void waits.push(ms), batchDuration: (ms) => void durations.push(ms) },
  }
  const core = new GatewayCore(options, effects, logs, () => now)
  const peer = (worker: string, header: Parameters<GatewayCore['workerMessage']>[2]) => core.workerMessage(`key-${worker}`, Buffer.from(worker), header)
  return {
    core,
    stats: core.stats,
    waits,
    durations,
    warnings,
    advance: (ms: number) => void (now += ms),
    ready: (worker: string, capacity = 1) => peer(worker, { v: 1, type: 'ready', worker, capacity }),
    /** A task of `commands` pairs. */
    task(id: string, commands = 1, client = 'c', attempt = 1): void {
      const body = commandsBody(Array.from({ length: commands }, (_, i) => [`10.0.0.${i % 250}`, 'foo'] as const))
      core.intake({ type: 'task', header: { v: 1, type: 'task', id, client, replyTo: 'tcp://127.0.0.1:1', attempt }, body })
    },
    done(worker: string, id: string, report: { counts?: OutcomeCounts; ms?: number; states?: StateCounts } = {}, client = 'c'): void {
      const header: DoneHeader = { v: 1, type: 'done', id, client, ...report }
      peer(worker, header)
    },
  }
}

describe('commands taken in', () => {
  it('are counted when a batch is taken in, and not again for a resend of it while it is inside', () => {
    const g = setUp()
    g.task('1', 16)
    g.task('2', 4)
    g.task('1', 16, 'c', 2) // still queued: a duplicate
    expect([g.stats.batchesReceived, g.stats.commandsReceived, g.stats.duplicates]).toEqual([3, 20, 1])
  })

  it('leave out batches refused before admission, which still count as batches received', () => {
    const g = setUp({ maxBatch: 2 })
    g.task('big', 3)
    g.core.intake({ type: 'abort', client: 'gone' })
    g.task('late', 1, 'gone')
    expect([g.stats.batchesReceived, g.stats.commandsReceived, g.stats.aborts, g.stats.received]).toEqual([2, 0, 1, 3])
  })
})

describe("a completed batch's done", () => {
  it('adds its counts and states to the totals', () => {
    const g = setUp()
    g.ready('w', 2)
    g.task('1', 10)
    g.task('2', 6)
    g.done('w', '1', { counts: [6, 1, 1, 1, 1], ms: 5, states: [3, 1, 1, 0] })
    g.done('w', '2', { counts: [6, 0, 0, 0, 0], ms: 5, states: [0, 0, 0, 6] })
    expect(g.stats.commands).toEqual({ ok: 12, unknown: 1, failed: 1, timeout: 1, cancelled: 1 })
    expect(g.stats.states).toEqual({ ok: 3, warning: 1, critical: 1, unknown: 6 })
    expect(g.core.snapshot().counters).toMatchObject({ commandsReceived: 16, commands: g.stats.commands, states: g.stats.states })
  })

  it('without counts, counts the batch only', () => {
    const g = setUp()
    g.ready('w')
    g.task('1', 10)
    g.done('w', '1')
    expect(g.stats.completed).toBe(1)
    expect(g.stats.commands).toEqual({ ok: 0, unknown: 0, failed: 0, timeout: 0, cancelled: 0 })
  })

  it("ignores counts that do not add up to the batch's commands, and states beyond its ok ones, and logs them", () => {
    const g = setUp()
    g.ready('w', 3)
    g.task('1', 10)
    g.task('2', 10)
    g.task('3', 10)
    g.done('w', '1', { counts: [1_000_000, 0, 0, 0, 0], states: [1, 0, 0, 0] })
    g.done('w', '2', { counts: [4, 6, 0, 0, 0], states: [5, 0, 0, 0] })
    g.done('w', '3', { states: [11, 0, 0, 0] })
    expect(g.stats.completed).toBe(3)
    expect(g.stats.commands).toEqual({ ok: 4, unknown: 6, failed: 0, timeout: 0, cancelled: 0 })
    expect(g.stats.states).toEqual({ ok: 0, warning: 0, critical: 0, unknown: 0 })
    expect(g.warnings).toEqual([
      "done counts do not add up to the batch's commands; ignored",
      "done states outnumber the batch's ok commands; ignored",
      "done states outnumber the batch's ok commands; ignored",
    ])
  })

  it('counts a batch run twice once: the second run to finish only frees its worker', () => {
    const g = setUp()
    g.ready('slow')
    g.task('1', 4)
    g.ready('fast')
    g.task('1', 4, 'c', 2) // the client's resend: a second run on the free worker
    expect(g.stats.speculative).toBe(1)
    g.done('fast', '1', { counts: [4, 0, 0, 0, 0], ms: 1 })
    g.done('slow', '1', { counts: [4, 0, 0, 0, 0], ms: 1 })
    expect([g.stats.commandsReceived, g.stats.completed, g.stats.commands.ok, g.durations.length]).toEqual([4, 1, 4, 1])
  })

  it("is not counted when it is not the worker's batch", () => {
    const g = setUp()
    g.ready('w')
    g.task('1', 4)
    g.done('w', 'other', { counts: [4, 0, 0, 0, 0] })
    expect([g.stats.completed, g.stats.commands.ok]).toEqual([0, 0])
  })
})

describe('the observer', () => {
  it('is told how long each batch waited in the queue, on the core clock', () => {
    const g = setUp()
    g.task('1')
    g.advance(40)
    g.task('2')
    g.advance(10)
    g.ready('w', 2) // both go now: 50 ms and 10 ms after they came
    g.ready('v')
    g.task('3') // a worker is free: no wait
    expect(g.waits).toEqual([50, 10, 0])
  })

  it('counts a requeued batch from its requeue, not from its first admission', () => {
    const g = setUp()
    g.ready('w')
    g.advance(100)
    g.task('1')
    g.advance(30)
    g.ready('w') // ready again: a new session, what it held is requeued and goes out again
    expect(g.stats.requeued).toBe(1)
    expect(g.waits).toEqual([0, 0])
  })

  it("times a batch by the worker's ms, capped at what the gateway saw from dispatch to done", () => {
    const g = setUp()
    g.ready('w', 3)
    g.task('1')
    g.task('2')
    g.task('3')
    g.advance(250)
    g.done('w', '1', { counts: [1, 0, 0, 0, 0], ms: 200.5 })
    g.done('w', '2', { counts: [1, 0, 0, 0, 0], ms: 999_999 })
    g.done('w', '3')
    expect(g.durations).toEqual([200.5, 250, 250])
  })
})

describe('malformed messages', () => {
  it('are counted by the socket they came on, and in all', () => {
    const g = setUp()
    g.core.intake({ type: 'malformed', reason: 'header: not a map' })
    g.core.malformed('workers', 'header "counts" must be …')
    g.core.malformed('workers', 'header "ms" must be …')
    expect([g.stats.malformed, g.stats.malformedFrom]).toEqual([3, { intake: 1, workers: 2 }])
    expect(g.core.snapshot().counters.malformedFrom).toEqual({ intake: 1, workers: 2 })
  })
})
