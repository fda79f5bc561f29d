/**
 * The client's tally (src/client/tally.ts) as a specification: every batch
 * settles once, answered or lost, every command of it lands in exactly one
 * count, and anything later for the same batch is a duplicate that changes
 * nothing.
 */
import { describe, expect, it } from 'vitest'
import { ResultTally, describeLoss, type Loss } from '../../src/client/tally.js'
import type { CommandOutcome } from '../../src/protocol/types.js'
import { seededRandom } from '../helpers/random.js'

const NO_RESULT: Loss = { cause: 'noResult' }
const OUTCOMES: readonly CommandOutcome[] = [[0, 1], [1, null], [2, 'refused'], [3, null], [4, null]]

describe('a ResultTally counting answered batches', () => {
  it('counts each code once per command', () => {
    const tally = new ResultTally()
    tally.recordOutcomes(1, [[0, 5], [0, 7], [1, null], [2, 'x'], [3, null], [3, null]])
    expect(tally.counts).toEqual({ ok: 2, unknown: 1, failed: 1, timeout: 2, cancelled: 0, lost: 0 })
    expect(tally.settled).toBe(6)
  })

  it('counts code 4 as cancelled, answered and not lost', () => {
    const tally = new ResultTally()
    tally.recordOutcomes(1, [[4, null], [4, null], [0, 1]])
    expect(tally.counts).toEqual({ ok: 1, unknown: 0, failed: 0, timeout: 0, cancelled: 2, lost: 0 })
    expect([tally.settled, tally.total]).toEqual([3, 1])
  })

  it('sums only the numeric values of code 0 into total', () => {
    const tally = new ResultTally()
    tally.recordOutcomes(1, [
      [0, 5],
      [0, -2],
      [0, 0.5],
      [0, '100'],
      [0, null],
      [0, { n: 100 }],
      [0, Number.POSITIVE_INFINITY],
      [0, Number.NaN],
      [2, 'x'],
    ])
    tally.recordOutcomes(2, [[0, 10]])
    expect(tally.total).toBe(13.5)
  })

  it('counts a second result for the same batch as a duplicate and does not tally it', () => {
    const tally = new ResultTally()
    expect(tally.recordOutcomes(1, [[0, 1], [0, 1]])).toBe(true)
    expect(tally.recordOutcomes(1, [[0, 1], [0, 1]])).toBe(false)
    expect(tally.duplicates).toBe(1)
    expect(tally.counts.ok).toBe(2)
    expect(tally.total).toBe(2)
    expect(tally.settled).toBe(2)
  })
})

describe('a ResultTally counting lost batches', () => {
  it('counts lost commands once per batch', () => {
    const tally = new ResultTally()
    expect(tally.recordLost(3, 16, NO_RESULT)).toBe(true)
    expect(tally.recordLost(4, 5, NO_RESULT)).toBe(true)
    expect(tally.counts.lost).toBe(21)
    expect(tally.settled).toBe(21)
  })

  it('counts each lost batch under its cause, and rejections under their reason', () => {
    const tally = new ResultTally()
    tally.recordLost(1, 4, { cause: 'unsent' })
    tally.recordLost(2, 4, { cause: 'unsent' })
    tally.recordLost(3, 4, { cause: 'noResult' })
    tally.recordLost(4, 4, { cause: 'interrupted' })
    tally.recordLost(5, 4, { cause: 'rejected', reason: 'too-large' })
    tally.recordLost(6, 4, { cause: 'rejected', reason: 'too-large' })
    tally.recordLost(7, 4, { cause: 'rejected', reason: 'shutting-down' })
    expect(tally.lostBatches).toEqual({ unsent: 2, rejected: { 'too-large': 2, 'shutting-down': 1 }, noResult: 1, interrupted: 1 })
    expect(tally.counts.lost).toBe(28)
  })

  it('counts recordLost after a result as a duplicate and loses nothing, under no cause', () => {
    const tally = new ResultTally()
    tally.recordOutcomes(1, [[0, 1]])
    expect(tally.recordLost(1, 1, { cause: 'interrupted' })).toBe(false)
    expect(tally.duplicates).toBe(1)
    expect(tally.counts).toEqual({ ok: 1, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 })
    expect(tally.lostBatches).toEqual({ unsent: 0, rejected: {}, noResult: 0, interrupted: 0 })
  })

  it('drops a result that arrives after its batch was counted lost', () => {
    const tally = new ResultTally()
    tally.recordLost(1, 2, NO_RESULT)
    expect(tally.recordOutcomes(1, [[0, 1], [0, 1]])).toBe(false)
    expect(tally.counts).toEqual({ ok: 0, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 2 })
    expect(tally.total).toBe(0)
  })
})

describe('a ResultTally told of a result for a batch not in flight', () => {
  it('counts it as a duplicate when that batch has settled', () => {
    const tally = new ResultTally()
    tally.recordOutcomes(1, [[0, 1]])
    tally.recordLost(2, 1, NO_RESULT)
    tally.recordStray(1)
    tally.recordStray(2)
    expect(tally.duplicates).toBe(2)
    expect(tally.settled).toBe(2)
  })

  it('ignores it when that batch never settled (not sent yet, or not ours)', () => {
    const tally = new ResultTally()
    tally.recordStray(7)
    expect(tally.duplicates).toBe(0)
    expect(tally.isFinished(7)).toBe(false)
  })
})

describe('a ResultTally over many batches', () => {
  it('knows which batches are finished, including far-apart sequence numbers', () => {
    const tally = new ResultTally()
    tally.recordOutcomes(1, [[0, 1]])
    tally.recordLost(1_000_000, 1, NO_RESULT)
    expect([1, 2, 999_999, 1_000_000].map((seq) => tally.isFinished(seq))).toEqual([true, false, false, true])
  })

  it('puts every command of every batch in exactly one count, whatever order results, losses and copies come in (seeded)', () => {
    const random = seededRandom(10)
    const tally = new ResultTally()
    const sizes = new Map<number, number>()
    let copies = 0
    for (let step = 0; step < 5000; step++) {
      const seq = 1 + Math.floor(random() * 400)
      const size = sizes.get(seq) ?? 1 + Math.floor(random() * 16)
      if (tally.isFinished(seq)) copies++
      sizes.set(seq, size)
      if (random() < 0.7) {
        const outcomes = Array.from({ length: size }, (): CommandOutcome => OUTCOMES[Math.floor(random() * OUTCOMES.length)]!)
        tally.recordOutcomes(seq, outcomes)
      } else {
        tally.recordLost(seq, size, random() < 0.5 ? NO_RESULT : { cause: 'rejected', reason: 'queue-full' })
      }
    }
    const commands = [...sizes.values()].reduce((a, b) => a + b, 0)
    const c = tally.counts
    expect(c.ok + c.unknown + c.failed + c.timeout + c.cancelled + c.lost).toBe(commands)
    expect(tally.settled).toBe(commands)
    expect(tally.duplicates).toBe(copies)
  })
})

describe('describeLoss', () => {
  it.each([
    { loss: { cause: 'noResult' } as Loss, text: 'no result' },
    { loss: { cause: 'unsent' } as Loss, text: 'unsent' },
    { loss: { cause: 'interrupted' } as Loss, text: 'interrupted' },
    { loss: { cause: 'rejected', reason: 'too-large' } as Loss, text: 'rejected too-large' },
  ])('names $text as a command record does', ({ loss, text }) => {
    expect(describeLoss(loss)).toBe(text)
  })
})

describe('a ResultTally asked what finished', () => {
  it('counts answered commands of every code, and not the lost, which settled all the same', () => {
    const tally = new ResultTally()
    tally.recordOutcomes(1, OUTCOMES)
    tally.recordLost(2, 16, NO_RESULT)
    expect([tally.answered, tally.settled]).toEqual([5, 21])
  })
})
