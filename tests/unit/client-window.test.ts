/**
 * The client's in-flight window (src/client/window.ts) as a specification,
 * on fake time: `now` is a number the test hands in, so "resent after the
 * result timeout" and "given up after every resend" take no real time.
 */
import { describe, expect, it } from 'vitest'
import { InFlightWindow, type WindowPolicy } from '../../src/client/window.js'

interface TestBatch {
  readonly seq: number
  readonly size: number
}

const TIMEOUT = 1000
const RETRY_DELAY = 100

function windowOf(policy: Partial<WindowPolicy> = {}): InFlightWindow<TestBatch> {
  return new InFlightWindow<TestBatch>({ window: 2, resultTimeoutMs: TIMEOUT, retryDelayMs: RETRY_DELAY, maxResends: 2, ...policy })
}

const batch = (seq: number, size = 4): TestBatch => ({ seq, size })

/** Opens batch `seq` and reports its first send as gone at `now`. */
function openSent(window: InFlightWindow<TestBatch>, seq: number, now: number): TestBatch {
  const b = batch(seq)
  expect(window.open(b)).toEqual({ type: 'send', attempt: 1 })
  window.sent(seq, now)
  return b
}

describe('an InFlightWindow of 2 batches', () => {
  it('takes batches while it has room and is full at 2', () => {
    const window = windowOf()
    expect(window.hasRoom).toBe(true)
    window.open(batch(1))
    expect(window.hasRoom).toBe(true)
    window.open(batch(2, 3))
    expect(window.hasRoom).toBe(false)
    expect([window.size, window.commands]).toEqual([2, 7])
  })

  it('refuses to open a batch beyond the bound, or one already in flight', () => {
    const window = windowOf()
    window.open(batch(1))
    expect(() => window.open(batch(1))).toThrow(RangeError)
    window.open(batch(2))
    expect(() => window.open(batch(3))).toThrow(RangeError)
  })

  it('has room again once a batch settles, and gives its commands back', () => {
    const window = windowOf()
    openSent(window, 1, 0)
    openSent(window, 2, 0)
    window.answered(1)
    expect([window.hasRoom, window.size, window.commands]).toEqual([true, 1, 4])
  })

  it('knows the batch of a sequence number only while it is in flight', () => {
    const window = windowOf()
    const b = openSent(window, 1, 0)
    expect(window.batch(1)).toBe(b)
    window.answered(1)
    expect(window.batch(1)).toBeUndefined()
  })
})

describe('the result deadline', () => {
  it('runs from when the send left, not from when the batch was opened', () => {
    const window = windowOf()
    window.open(batch(1))
    window.sent(1, 500)
    expect(window.due(500 + TIMEOUT - 1)).toEqual([])
    expect(window.due(500 + TIMEOUT)).toEqual([{ type: 'resend', batch: batch(1), attempt: 2, why: 'timeout' }])
  })

  it('does not exist while a send is queued: a batch in its send retries is never due, however late', () => {
    const window = windowOf({ resultTimeoutMs: 10 })
    window.open(batch(1))
    expect([window.due(10), window.due(1000), window.due(1_000_000)]).toEqual([[], [], []])
  })

  it('counts a batch once when its send fails after outlasting the result timeout: unsent, never also resent or given up', () => {
    const window = windowOf({ resultTimeoutMs: 10 })
    window.open(batch(1))
    window.due(400)
    expect(window.sendFailed(1)).toEqual({ type: 'lost', batch: batch(1), loss: { cause: 'unsent' }, attempts: 1, withdraw: false })
    expect(window.due(10_000)).toEqual([])
    expect([window.size, window.resends]).toEqual([0, 0])
  })
})

describe('resends after a result timeout', () => {
  it('orders each resend with the next attempt number, and counts it', () => {
    const window = windowOf()
    openSent(window, 1, 0)
    expect(window.due(TIMEOUT)).toEqual([{ type: 'resend', batch: batch(1), attempt: 2, why: 'timeout' }])
    window.sent(1, TIMEOUT + 5)
    expect(window.due(2 * TIMEOUT + 5)).toEqual([{ type: 'resend', batch: batch(1), attempt: 3, why: 'timeout' }])
    expect(window.resends).toBe(2)
  })

  it('orders a resend once: until the resend has left, the batch is not due again', () => {
    const window = windowOf()
    openSent(window, 1, 0)
    window.due(TIMEOUT)
    expect(window.due(10 * TIMEOUT)).toEqual([])
    window.sent(1, 10 * TIMEOUT)
    expect(window.due(11 * TIMEOUT - 1)).toEqual([])
  })

  it('gives a batch up as noResult once it has had maxResends resends', () => {
    const window = windowOf({ maxResends: 2 })
    openSent(window, 1, 0)
    window.due(TIMEOUT)
    window.sent(1, TIMEOUT)
    window.due(2 * TIMEOUT)
    window.sent(1, 2 * TIMEOUT)
    expect(window.due(3 * TIMEOUT)).toEqual([{ type: 'lost', batch: batch(1), loss: { cause: 'noResult' }, attempts: 3, withdraw: false }])
    expect(window.size).toBe(0)
  })

  it('with maxResends 0, gives a batch up at its first deadline', () => {
    const window = windowOf({ maxResends: 0 })
    openSent(window, 1, 0)
    expect(window.due(TIMEOUT)).toEqual([{ type: 'lost', batch: batch(1), loss: { cause: 'noResult' }, attempts: 1, withdraw: false }])
    expect(window.resends).toBe(0)
  })

  it('answers only the batches due, each once', () => {
    const window = windowOf()
    openSent(window, 1, 0)
    openSent(window, 2, 300)
    expect(window.due(TIMEOUT).map((step) => step.batch.seq)).toEqual([1])
    expect(window.due(TIMEOUT + 300).map((step) => step.batch.seq)).toEqual([2])
  })
})

describe('a result', () => {
  it('takes its batch out of the window; nothing is withdrawn when no send of it is queued', () => {
    const window = windowOf()
    openSent(window, 1, 0)
    expect(window.answered(1)).toEqual({ batch: batch(1), withdraw: false })
    expect(window.due(100 * TIMEOUT)).toEqual([])
  })

  it('of a batch whose resend is still queued says to withdraw that resend from the send queue', () => {
    const window = windowOf()
    openSent(window, 1, 0)
    window.due(TIMEOUT) // resend queued
    expect(window.answered(1)).toEqual({ batch: batch(1), withdraw: true })
  })

  it('for a batch not in flight (never opened, answered before, given up) finds nothing', () => {
    const window = windowOf({ maxResends: 0 })
    openSent(window, 1, 0)
    window.answered(1)
    openSent(window, 2, 0)
    window.due(TIMEOUT)
    expect([window.answered(1), window.answered(2), window.answered(99)]).toEqual([undefined, undefined, undefined])
  })

  it('after a resend was queued makes the failure of that resend say nothing', () => {
    const window = windowOf()
    openSent(window, 1, 0)
    window.due(TIMEOUT)
    window.answered(1)
    expect(window.sendFailed(1)).toBeUndefined()
    expect(window.sendingStopped).toBe(false)
  })

  it('lets the late "sent" of a withdrawn copy change nothing', () => {
    const window = windowOf()
    openSent(window, 1, 0)
    window.due(TIMEOUT)
    window.answered(1)
    window.sent(1, 2 * TIMEOUT)
    expect([window.size, window.batch(1)]).toEqual([0, undefined])
  })
})

describe('a rejection', () => {
  it('that is retryable makes the batch due one retry delay later, not at once, and its resend says why', () => {
    const window = windowOf()
    openSent(window, 1, 0)
    expect(window.rejected(1, { retryable: true, reason: 'queue-full' }, 50)).toEqual({ type: 'retry' })
    expect(window.due(50 + RETRY_DELAY - 1)).toEqual([])
    expect(window.due(50 + RETRY_DELAY)).toEqual([{ type: 'resend', batch: batch(1), attempt: 2, why: 'rejected' }])
    window.sent(1, 200)
    expect(window.due(200 + TIMEOUT)).toEqual([{ type: 'resend', batch: batch(1), attempt: 3, why: 'timeout' }])
  })

  it('that is retryable but comes after the last resend loses the batch as rejected', () => {
    const window = windowOf({ maxResends: 1 })
    openSent(window, 1, 0)
    window.due(TIMEOUT)
    window.sent(1, TIMEOUT)
    expect(window.rejected(1, { retryable: true, reason: 'queue-full' }, TIMEOUT + 1)).toEqual({
      type: 'lost',
      batch: batch(1),
      loss: { cause: 'rejected', reason: 'queue-full' },
      attempts: 2,
      withdraw: false,
    })
  })

  it('that is not retryable loses the batch at once under its reason', () => {
    const window = windowOf()
    openSent(window, 1, 0)
    expect(window.rejected(1, { retryable: false, reason: 'too-large' }, 1)).toMatchObject({ type: 'lost', loss: { cause: 'rejected', reason: 'too-large' } })
    expect(window.size).toBe(0)
  })

  it('of an earlier copy while a resend is queued leaves that resend as the retry', () => {
    const window = windowOf()
    openSent(window, 1, 0)
    window.due(TIMEOUT) // resend queued
    expect(window.rejected(1, { retryable: true, reason: 'queue-full' }, TIMEOUT + 1)).toEqual({ type: 'retry' })
    window.sent(1, TIMEOUT + 10)
    expect(window.due(TIMEOUT + 10 + RETRY_DELAY)).toEqual([])
    expect(window.due(2 * TIMEOUT + 10)).toEqual([{ type: 'resend', batch: batch(1), attempt: 3, why: 'timeout' }])
  })

  it('that loses a batch whose resend is queued says to withdraw it', () => {
    const window = windowOf()
    openSent(window, 1, 0)
    window.due(TIMEOUT)
    expect(window.rejected(1, { retryable: false, reason: 'malformed' }, TIMEOUT + 1)).toMatchObject({ withdraw: true })
  })

  it('for a batch not in flight finds nothing', () => {
    expect(windowOf().rejected(5, { retryable: false, reason: 'too-large' }, 0)).toBeUndefined()
  })
})

describe('once a send has failed for good', () => {
  function stoppedWindow(): InFlightWindow<TestBatch> {
    const window = windowOf()
    openSent(window, 1, 0)
    window.open(batch(2))
    expect(window.sendFailed(2)).toMatchObject({ loss: { cause: 'unsent' } })
    expect(window.sendingStopped).toBe(true)
    return window
  }

  it('loses every later batch as unsent without sending it', () => {
    expect(stoppedWindow().open(batch(3))).toEqual({ type: 'lost', batch: batch(3), loss: { cause: 'unsent' }, attempts: 0, withdraw: false })
  })

  it('still takes results for the batches already out', () => {
    expect(stoppedWindow().answered(1)).toEqual({ batch: batch(1), withdraw: false })
  })

  it('gives up a due batch as noResult instead of resending it', () => {
    expect(stoppedWindow().due(TIMEOUT)).toEqual([{ type: 'lost', batch: batch(1), loss: { cause: 'noResult' }, attempts: 1, withdraw: false }])
  })

  it('loses a batch rejected as retryable instead of retrying it', () => {
    expect(stoppedWindow().rejected(1, { retryable: true, reason: 'queue-full' }, 1)).toMatchObject({ type: 'lost', loss: { cause: 'rejected' } })
  })
})

describe('after an interrupt', () => {
  function interrupted(): InFlightWindow<TestBatch> {
    const window = windowOf()
    openSent(window, 1, 0)
    window.open(batch(2)) // its send still queued
    window.interrupt()
    return window
  }

  it('opens nothing: the next batch is lost as interrupted, unsent', () => {
    expect(interrupted().open(batch(3))).toEqual({ type: 'lost', batch: batch(3), loss: { cause: 'interrupted' }, attempts: 0, withdraw: false })
  })

  it('orders no resend and gives nothing up, however late', () => {
    expect(interrupted().due(100 * TIMEOUT)).toEqual([])
  })

  it('counts a send failed by the closing sender as interrupted, and does not call it a send failure', () => {
    const window = interrupted()
    expect(window.sendFailed(2)).toMatchObject({ loss: { cause: 'interrupted' } })
    expect(window.sendingStopped).toBe(false)
  })

  it('retries no rejection', () => {
    expect(interrupted().rejected(1, { retryable: true, reason: 'queue-full' }, 1)).toMatchObject({ type: 'lost', loss: { cause: 'rejected' } })
  })

  it('still takes a result that arrives before the drain', () => {
    expect(interrupted().answered(1)).toEqual({ batch: batch(1), withdraw: false })
  })

  it('drains every batch still out as interrupted, and is empty after', () => {
    const window = interrupted()
    expect(window.drain()).toEqual([
      { type: 'lost', batch: batch(1), loss: { cause: 'interrupted' }, attempts: 1, withdraw: false },
      { type: 'lost', batch: batch(2), loss: { cause: 'interrupted' }, attempts: 1, withdraw: true },
    ])
    expect([window.size, window.commands, window.drain()]).toEqual([0, 0, []])
  })
})

describe('the commands sent (what the summary calls sent)', () => {
  it('counts a batch when its first send leaves, and never again for its resends', () => {
    const window = windowOf()
    window.open(batch(1, 4))
    expect(window.sentCommands).toBe(0)
    window.sent(1, 0)
    expect(window.sentCommands).toBe(4)
    window.due(TIMEOUT)
    window.sent(1, TIMEOUT)
    expect([window.resends, window.sentCommands]).toEqual([1, 4])
  })

  it('never counts a batch whose send failed, or one drained while its only send was queued', () => {
    const window = windowOf()
    window.open(batch(1, 4))
    window.sendFailed(1)
    const other = windowOf()
    other.open(batch(2, 3))
    other.interrupt()
    other.drain()
    other.sent(2, 5) // the withdrawn copy resolves like a sent one
    expect([window.sentCommands, other.sentCommands]).toEqual([0, 0])
  })

  it('counts a batch answered or rejected before its send() resolved: the answer proves it left', () => {
    const window = windowOf()
    window.open(batch(1, 4))
    window.answered(1)
    window.open(batch(2, 3))
    window.rejected(2, { retryable: false, reason: 'too-large' }, 0)
    expect(window.sentCommands).toBe(7)
  })
})
