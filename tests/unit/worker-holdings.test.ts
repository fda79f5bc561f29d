/**
 * What a worker holds (Holdings), on a fake clock: when each batch was
 * taken gives its `done`'s `ms`; taking and settling count into the stats;
 * `idle` waits for the last release (announced by `wakeIfIdle`), or for a
 * forced close's `wakeAll`.
 */
import { describe, expect, it } from 'vitest'
import { zeroWorkerStats } from '../../src/worker/events.js'
import { Holdings, type TakenBatch } from '../../src/worker/holdings.js'
import type { CommandOutcome } from '../../src/protocol/types.js'

function bench() {
  let now = 0
  const stats = zeroWorkerStats()
  const holdings = new Holdings<TakenBatch>(stats, () => now)
  return {
    stats,
    holdings,
    at(ms: number) {
      now = ms
    },
  }
}

function batch(outcomes: CommandOutcome[]): TakenBatch {
  return { commands: outcomes.length, outcomes }
}

/** Whether `promise` has settled once pending callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false
  void promise.then(() => (done = true))
  await new Promise((resolve) => setImmediate(resolve))
  return done
}

describe('a worker’s holdings', () => {
  it('count a batch and its commands as taken, and hold it until released', () => {
    const { stats, holdings } = bench()
    const a = batch([[0, 1], [0, 2]])
    const b = batch([[0, 1]])
    holdings.take(a)
    holdings.take(b)
    expect(holdings.size).toBe(2)
    expect(stats).toMatchObject({ batches: 2, commands: 3 })
    holdings.settle(a)
    expect(holdings.size).toBe(2) // settled is still held: its result is not delivered yet
    holdings.release(a)
    expect(holdings.size).toBe(1)
  })

  it('report the time from taken to settled in milliseconds, rounded to microseconds', () => {
    const { holdings, at } = bench()
    const a = batch([[0, 1]])
    at(1000.25)
    holdings.take(a)
    at(1012.1234567)
    expect(holdings.settle(a).ms).toBe(11.873)
  })

  it('report 0 ms for a batch they never took', () => {
    const { holdings, at } = bench()
    at(500)
    expect(holdings.settle(batch([[0, 1]])).ms).toBe(0)
  })

  it('report counts by code, and states only when a check result came back, adding both to the stats', () => {
    const { stats, holdings, at } = bench()
    const plain = batch([[0, 1], [1, null], [2, 'boom'], [3, null], [4, null], [0, 7]])
    const checks = batch([[0, { state: 0 }], [0, { state: 2 }], [0, { state: 2 }], [2, 'x']])
    holdings.take(plain)
    holdings.take(checks)
    at(2)
    expect(holdings.settle(plain)).toEqual({ counts: [2, 1, 1, 1, 1], ms: 2 })
    expect(holdings.settle(checks)).toEqual({ counts: [3, 0, 1, 0, 0], states: [1, 0, 2, 0], ms: 2 })
    expect(stats.outcomes).toEqual({ ok: 5, unknown: 1, failed: 2, timeout: 1, cancelled: 1 })
    expect(stats.states).toEqual({ ok: 1, warning: 0, critical: 2, unknown: 0 })
  })

  it('are idle at once when they hold nothing', async () => {
    expect(await settled(bench().holdings.idle())).toBe(true)
  })

  it('wake their idle waiters on the wakeIfIdle after the last release, not before', async () => {
    const { holdings } = bench()
    const a = batch([[0, 1]])
    const b = batch([[0, 1]])
    holdings.take(a)
    holdings.take(b)
    const idle = holdings.idle()
    holdings.release(a)
    holdings.wakeIfIdle()
    expect(await settled(idle)).toBe(false)
    holdings.release(b)
    expect(await settled(idle)).toBe(false) // released, not yet announced
    holdings.wakeIfIdle()
    expect(await settled(idle)).toBe(true)
  })

  it('wake every idle waiter on wakeAll, whatever they still hold', async () => {
    const { holdings } = bench()
    holdings.take(batch([[0, 1]]))
    const first = holdings.idle()
    const second = holdings.idle()
    holdings.wakeAll()
    expect(await settled(first)).toBe(true)
    expect(await settled(second)).toBe(true)
    expect(holdings.size).toBe(1)
  })
})
