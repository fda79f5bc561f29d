/**
 * The window stage's adapter (src/client/dispatcher.ts) on fake timers and
 * a hand-played submit port: it waits for room and for `beforeBatch`, sends,
 * withdraws a queued resend when its batch settles, and gives way at once to
 * the interrupt signal.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Batcher, type Batch } from '../../src/client/batcher.js'
import { Dispatcher } from '../../src/client/dispatcher.js'
import type { CommandRecord } from '../../src/client/records.js'
import { ResultTally } from '../../src/client/tally.js'
import { InFlightWindow, type WindowPolicy } from '../../src/client/window.js'
import { SendError } from '../../src/errors.js'
import { silentLogger } from '../../src/log.js'
import { outcomesBody } from '../../src/protocol/frames.js'
import type { ResultHeader } from '../../src/protocol/types.js'

interface QueuedSend {
  readonly seq: number
  readonly attempt: number
  resolve(): void
  reject(error: Error): void
}

/** A submit port whose sends stay queued until the test lets them go. */
class HandSubmit {
  readonly queued: QueuedSend[] = []
  readonly withdrawn: number[] = []
  send(batch: Batch, attempt: number): Promise<void> {
    return new Promise((resolve, reject) => this.queued.push({ seq: batch.seq, attempt, resolve, reject }))
  }
  withdraw(seq: number): void {
    this.withdrawn.push(seq)
    const i = this.queued.findIndex((send) => send.seq === seq)
    if (i >= 0) this.queued.splice(i, 1)[0]!.resolve()
  }
  /** Lets the oldest queued send go, once the dispatcher has queued it. */
  async leave(): Promise<QueuedSend> {
    await settle()
    const send = this.queued.shift()!
    send.resolve()
    await settle()
    return send
  }
}

const TIMEOUT = 1000

let submit: HandSubmit
let window: InFlightWindow<Batch>
let tally: ResultTally
let stopping: AbortController
let records: CommandRecord[]
let resends: { id: string; attempt: number; why: string }[]

function dispatcher(policy: Partial<WindowPolicy> = {}, beforeBatch?: () => Promise<void> | undefined): Dispatcher {
  window = new InFlightWindow<Batch>({ window: 2, resultTimeoutMs: TIMEOUT, retryDelayMs: 100, maxResends: 3, ...policy })
  return new Dispatcher({
    window,
    tally,
    submit,
    clock: () => Date.now(),
    signal: stopping.signal,
    logger: silentLogger(),
    maxMessageBytes: 1 << 20,
    resultTimeoutMs: policy.resultTimeoutMs ?? TIMEOUT,
    beforeBatch,
    onRecords: (batch) => records.push(...batch),
    onResend: (resend) => resends.push(resend),
  })
}

function batches(count: number, size = 2): Batch[] {
  const batcher = new Batcher(size)
  const out: Batch[] = []
  for (let n = 1; n <= count * size; n++) {
    const batch = batcher.add({ line: n, address: '10.0.0.1', command: `c${n}` })
    if (batch !== undefined) out.push(batch)
  }
  return out
}

function answer(d: Dispatcher, batch: Batch): void {
  const header: ResultHeader = { v: 1, type: 'result', id: batch.id, client: 'c', worker: 'w', attempt: 1 }
  d.result(batch.seq, header, outcomesBody(batch.commands!.map(() => [0, 1])))
}

/** Lets promise callbacks run (fake timers leave microtasks alone). */
const settle = async (): Promise<void> => {
  await vi.advanceTimersByTimeAsync(0)
}

beforeEach(() => {
  vi.useFakeTimers()
  submit = new HandSubmit()
  tally = new ResultTally()
  stopping = new AbortController()
  records = []
  resends = []
})

afterEach(() => {
  vi.useRealTimers()
})

describe('admitting batches', () => {
  it('resolves once the send has left, so the socket holds the reading back', async () => {
    const d = dispatcher()
    const [first] = batches(1)
    let admitted = false
    void d.admit(first!).then(() => (admitted = true))
    await settle()
    expect(admitted).toBe(false)
    await submit.leave()
    await settle()
    expect(admitted).toBe(true)
    d.close()
  })

  it('waits while the window is full and goes on when a result frees a place', async () => {
    const d = dispatcher()
    const [a, b, c] = batches(3)
    void d.admit(a!)
    await submit.leave()
    void d.admit(b!)
    await submit.leave()
    await settle()
    void d.admit(c!)
    await settle()
    expect(submit.queued).toHaveLength(0)
    answer(d, a!)
    await settle()
    expect(submit.queued.map((s) => s.seq)).toEqual([3])
    d.close()
  })
})

describe('a resend still queued when its batch is answered', () => {
  it('is withdrawn from the send queue, and the batch is counted once', async () => {
    const d = dispatcher()
    const [a] = batches(1)
    void d.admit(a!)
    await submit.leave()
    await vi.advanceTimersByTimeAsync(TIMEOUT + 250)
    expect(resends).toEqual([{ id: '1', attempt: 2, why: 'timeout' }])
    expect(submit.queued.map((s) => [s.seq, s.attempt])).toEqual([[1, 2]])
    answer(d, a!)
    expect(submit.withdrawn).toEqual([1])
    await settle()
    expect(tally.counts.ok).toBe(2)
    expect(tally.settled).toBe(2)
    expect(records.map((r) => r.line)).toEqual([1, 2])
    d.close()
  })
})

describe('a send in its retries for longer than the result timeout', () => {
  it('is never resent, and counts once as unsent when it fails; later batches are unsent without a send', async () => {
    const d = dispatcher({ resultTimeoutMs: 10 })
    const [a, b] = batches(2)
    const admitting = d.admit(a!)
    await vi.advanceTimersByTimeAsync(5000)
    expect(resends).toEqual([])
    submit.queued.shift()!.reject(new SendError('ERR_SEND_RETRIES_EXHAUSTED', 'tcp://127.0.0.1:1', 'tcp://127.0.0.1:1 did not accept a message'))
    await admitting
    await d.admit(b!)
    expect(submit.queued).toEqual([])
    expect(tally.lostBatches).toEqual({ unsent: 2, rejected: {}, noResult: 0, interrupted: 0 })
    expect(d.sendError).toContain('tcp://127.0.0.1:1')
    expect(records.map((r) => r.lost)).toEqual(['unsent', 'unsent', 'unsent', 'unsent'])
    d.close()
  })
})

describe('an interrupt', () => {
  it('releases a batch held by a beforeBatch that never lets go, and it is lost as interrupted, unsent', async () => {
    const d = dispatcher({}, () => new Promise<void>(() => undefined))
    const [a] = batches(1)
    let admitted = false
    void d.admit(a!).then(() => (admitted = true))
    await settle()
    expect(admitted).toBe(false)
    window.interrupt()
    stopping.abort()
    await settle()
    expect(admitted).toBe(true)
    expect(submit.queued).toEqual([])
    expect(tally.lostBatches.interrupted).toBe(1)
    d.close()
  })

  it('releases a wait for room and for the drain, and close() settles what is out as interrupted', async () => {
    const d = dispatcher()
    const [a, b, c] = batches(3)
    void d.admit(a!)
    await submit.leave()
    void d.admit(b!)
    await submit.leave()
    await settle()
    const waiting = d.admit(c!)
    const draining = d.drained()
    window.interrupt()
    stopping.abort()
    await waiting
    await draining
    d.close()
    expect(tally.lostBatches.interrupted).toBe(3)
    expect(tally.settled).toBe(6)
  })
})

describe('the records of an answered batch', () => {
  it("carry the answering worker's id and, as ms, a check value's own or the round trip from the send that left to its result", async () => {
    const d = dispatcher()
    const [a] = batches(1, 3)
    void d.admit(a!)
    await submit.leave()
    await vi.advanceTimersByTimeAsync(250)
    const header: ResultHeader = { v: 1, type: 'result', id: a!.id, client: 'c', worker: 'worker-42', attempt: 1 }
    d.result(a!.seq, header, outcomesBody([[0, 5], [0, { state: 1, output: 'load 9', ms: 17.5 }], [3, null]]))
    expect(records.map((r) => [r.outcome, r.ms, r.worker])).toEqual([
      ['ok', 250, 'worker-42'],
      ['ok', 17.5, 'worker-42'],
      ['timeout', 250, 'worker-42'],
    ])
    d.close()
  })

  it('time a resent batch from its last send that left', async () => {
    const d = dispatcher()
    const [a] = batches(1, 1)
    void d.admit(a!)
    await submit.leave()
    await vi.advanceTimersByTimeAsync(TIMEOUT + 300) // due: resent on the next sweep
    expect(resends).toHaveLength(1)
    await submit.leave()
    await vi.advanceTimersByTimeAsync(40)
    answer(d, a!)
    expect(records).toHaveLength(1)
    expect(records[0]!.ms).toBeGreaterThanOrEqual(40)
    expect(records[0]!.ms).toBeLessThan(TIMEOUT)
    d.close()
  })
})

describe('the abort grace after an interrupt', () => {
  /** Two batches sent, then the interrupt. */
  async function interruptedWithTwoOut(): Promise<{ d: Dispatcher; a: Batch; b: Batch }> {
    const d = dispatcher()
    const [a, b] = batches(2)
    void d.admit(a!)
    await submit.leave()
    void d.admit(b!)
    await submit.leave()
    window.interrupt()
    stopping.abort()
    await settle()
    return { d, a: a!, b: b! }
  }

  it('ends as soon as every batch in flight is answered: cancelled (code 4) or with real outcomes', async () => {
    const { d, a, b } = await interruptedWithTwoOut()
    let over = false
    void d.settledWithin(2000).then(() => (over = true))
    await vi.advanceTimersByTimeAsync(100)
    d.result(a.seq, { v: 1, type: 'result', id: a.id, client: 'c', worker: 'w', attempt: 1 }, outcomesBody([[4, null], [4, null]]))
    await settle()
    expect(over).toBe(false)
    answer(d, b)
    await settle()
    expect(over).toBe(true)
    d.close()
    expect(tally.counts).toMatchObject({ ok: 2, cancelled: 2, lost: 0 })
    expect(tally.lostBatches.interrupted).toBe(0)
    expect(resends).toEqual([])
  })

  it('ends after its time with what is still out lost as interrupted, not resent', async () => {
    const { d, a } = await interruptedWithTwoOut()
    let over = false
    void d.settledWithin(2000).then(() => (over = true))
    answer(d, a)
    await vi.advanceTimersByTimeAsync(1999)
    expect(over).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(over).toBe(true)
    d.close()
    expect(tally.counts).toMatchObject({ ok: 2, lost: 2 })
    expect(tally.lostBatches.interrupted).toBe(1)
    expect(resends).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('does not wait at all when nothing is out, or for a grace of 0', async () => {
    const { d, a, b } = await interruptedWithTwoOut()
    await d.settledWithin(0)
    answer(d, a)
    answer(d, b)
    await d.settledWithin(2000)
    d.close()
    expect(tally.counts).toMatchObject({ ok: 4, lost: 0 })
  })
})
