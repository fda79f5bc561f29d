/**
 * RateHistory, the gateway's last minute of throughput: cumulative counters
 * read once a second on a fake clock, read back as per-second rates.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { RateHistory, type RateCounters } from '../../src/gateway/rate-history.js'
import { FakeTimers } from '../helpers/fake-timers.js'

let timers: FakeTimers
let history: RateHistory

/** Counters as the gateway's stats hold them, with commands counted when `commands` is given. */
function counters(received: number, completed: number, commands?: number): RateCounters {
  return commands === undefined ? { received, completed } : { received, completed, commands: { ok: commands, unknown: 0, failed: 0, timeout: 0, cancelled: 0 } }
}

beforeEach(() => {
  timers = new FakeTimers()
  history = new RateHistory({ clock: () => timers.now })
})

describe('a new rate history', () => {
  it('has no rates until a second has passed after the first reading', async () => {
    expect(history.snapshot()).toEqual({ intervalMs: 1000, batchesPerSecond: [], receivedPerSecond: [] })
    history.sample(counters(5, 3, 40))
    await timers.advance(999)
    history.sample(counters(9, 7, 90))
    expect(history.snapshot().batchesPerSecond).toEqual([])
  })
})

describe('when sampled every half second, as the gateway ticker does', () => {
  it('keeps one entry a second, each the rate over that second', async () => {
    let received = 0
    let completed = 0
    history.sample(counters(received, completed))
    for (let tick = 1; tick <= 8; tick++) {
      await timers.advance(500)
      received += 3 * tick
      completed += tick
      history.sample(counters(received, completed))
    }
    // Entries at 1 s, 2 s, 3 s, 4 s; each covers two ticks (completed +1+2, +3+4, +5+6, +7+8).
    expect(history.snapshot()).toEqual({ intervalMs: 1000, batchesPerSecond: [3, 7, 11, 15], receivedPerSecond: [9, 21, 33, 45] })
  })
})

describe('when the gateway counts commands', () => {
  it('adds the commands rate: every outcome counts as a command done', async () => {
    history.sample({ received: 0, completed: 0, commands: { ok: 0, unknown: 0, failed: 0, timeout: 0, cancelled: 0 } })
    await timers.advance(1000)
    history.sample({ received: 2, completed: 2, commands: { ok: 10, unknown: 1, failed: 2, timeout: 3, cancelled: 4 } })
    expect(history.snapshot().commandsPerSecond).toEqual([20])
  })

  it('leaves the commands rate out for a gateway that does not', async () => {
    history.sample(counters(0, 0))
    await timers.advance(1000)
    history.sample(counters(4, 4))
    expect(history.snapshot()).not.toHaveProperty('commandsPerSecond')
  })
})

describe('when the gateway counts batches received apart from other intake messages', () => {
  it('takes the received rate from batchesReceived, not from every message', async () => {
    history.sample({ received: 0, batchesReceived: 0, completed: 0 })
    await timers.advance(1000)
    history.sample({ received: 10, batchesReceived: 6, completed: 2 })
    expect(history.snapshot().receivedPerSecond).toEqual([6])
  })
})

describe('after more than a minute', () => {
  it('keeps the last 60 seconds, oldest first', async () => {
    let completed = 0
    history.sample(counters(0, completed))
    for (let second = 1; second <= 75; second++) {
      await timers.advance(1000)
      completed += second
      history.sample(counters(completed, completed))
    }
    const rates = history.snapshot().batchesPerSecond
    expect(rates).toHaveLength(60)
    expect(rates[0]).toBe(16)
    expect(rates.at(-1)).toBe(75)
  })
})

describe('when a reading comes late', () => {
  it('spreads the average over every second it missed, so the minute stays a minute', async () => {
    history.sample(counters(0, 0))
    await timers.advance(1000)
    history.sample(counters(10, 10))
    // A stalled event loop: the next reading is 4.5 s later, 18 batches on.
    await timers.advance(4500)
    history.sample(counters(28, 28))
    expect(history.snapshot().batchesPerSecond).toEqual([10, 4, 4, 4, 4])
  })

  it('fills at most the whole ring after a very long gap', async () => {
    history.sample(counters(0, 0))
    await timers.advance(3_600_000)
    history.sample(counters(3600, 3600))
    expect(history.snapshot().batchesPerSecond).toEqual(Array.from({ length: 60 }, () => 1))
  })
})

describe('rates', () => {
  it('are rounded to hundredths', async () => {
    history.sample(counters(0, 0))
    await timers.advance(3000)
    history.sample(counters(1, 1))
    expect(history.snapshot().batchesPerSecond).toEqual([0.33, 0.33, 0.33])
  })

  it('never go negative, even if a counter did go back', async () => {
    history.sample(counters(10, 10))
    await timers.advance(1000)
    history.sample(counters(4, 4))
    expect(history.snapshot().batchesPerSecond).toEqual([0])
  })
})

describe('options', () => {
  it.each([
    ['intervalMs 0', { intervalMs: 0 }, /intervalMs must be a number > 0, got 0/],
    ['length 0', { length: 0 }, /length must be an integer >= 1, got 0/],
    ['length 1.5', { length: 1.5 }, /length must be an integer >= 1, got 1.5/],
  ])('refuses %s', (_what, options, message) => {
    expect(() => new RateHistory({ clock: () => 0, ...options })).toThrow(message)
  })

  it('keeps `length` entries of `intervalMs` each', async () => {
    const short = new RateHistory({ clock: () => timers.now, intervalMs: 250, length: 3 })
    short.sample(counters(0, 0))
    for (let i = 1; i <= 5; i++) {
      await timers.advance(250)
      short.sample(counters(i, i))
    }
    expect(short.snapshot()).toEqual({ intervalMs: 250, batchesPerSecond: [4, 4, 4], receivedPerSecond: [4, 4, 4] })
  })
})
