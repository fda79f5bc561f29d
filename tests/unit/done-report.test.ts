/**
 * A `done`'s optional report (protocol.md: `counts`, `ms`; docs/PROTOCOL.md:
 * this product's `states`): what the gateway's worker port accepts, what is
 * malformed, what our worker sends, and how a settled batch is tallied.
 */
import { describe, expect, it } from 'vitest'
import { encode } from '../../src/protocol/codec.js'
import { doneFrame } from '../../src/protocol/frames.js'
import { validateWorkerHeader } from '../../src/protocol/validate.js'
import type { CommandOutcome } from '../../src/protocol/types.js'
import { tallyOutcomes } from '../../src/worker/outcome-tally.js'
import { array16, array32, bytes, fixarray, fixmap, fixstr, float32, float64, int64, uint16, uint64, uint8, NIL } from './support/raw-msgpack.js'

const DONE = { v: 1, type: 'done', id: '17', client: 'client-a' } as const

/** A done header, spelled byte by byte, with the raw value of one extra key. */
function rawDone(key: string, value: Buffer | number): Buffer {
  return bytes(
    fixmap(5),
    ...[fixstr('v'), 1, fixstr('type'), fixstr('done'), fixstr('id'), fixstr('17'), fixstr('client'), fixstr('client-a')],
    fixstr(key),
    typeof value === 'number' ? Buffer.from([value]) : value,
  )
}

describe('a done with counts, ms and states', () => {
  it('is accepted as our worker builds it, and reads back as it was sent', () => {
    const report = { counts: [10, 1, 2, 3, 0], ms: 12.625, states: [5, 2, 2, 1] } as const
    expect(validateWorkerHeader(doneFrame('17', 'client-a', report))).toEqual({ ok: true, header: { ...DONE, ...report } })
  })

  it('is accepted without states (no check result came back), and without any of them (a plain CGP/1 worker)', () => {
    expect(validateWorkerHeader(doneFrame('17', 'client-a', { counts: [16, 0, 0, 0, 0], ms: 3 }))).toEqual({ ok: true, header: { ...DONE, counts: [16, 0, 0, 0, 0], ms: 3 } })
    expect(validateWorkerHeader(doneFrame('17', 'client-a'))).toEqual({ ok: true, header: DONE })
  })

  it.each([
    { what: 'a fixint', value: 100, ms: 100 },
    { what: 'a uint8', value: uint8(250), ms: 250 },
    { what: 'zero', value: 0, ms: 0 },
    { what: 'a float64', value: float64(1.25), ms: 1.25 },
    { what: 'a float32', value: float32(0.5), ms: 0.5 },
    { what: 'a uint16', value: uint16(60_000), ms: 60_000 },
  ])('takes ms as $what, handing it on as a number', ({ value, ms }) => {
    expect(validateWorkerHeader(rawDone('ms', value))).toEqual({ ok: true, header: { ...DONE, ms } })
  })

  it.each([
    { what: 'a fixarray of fixints', value: bytes(fixarray(5), 1, 2, 3, 4, 0) },
    { what: 'an array16 of uint8 and uint16', value: bytes(array16(5), uint8(1), uint16(2), 3, 4, 0) },
    { what: 'an array32', value: bytes(array32(5), 1, 2, 3, 4, 0) },
  ])('takes counts as $what, as peers in other languages may write them', ({ value }) => {
    expect(validateWorkerHeader(rawDone('counts', value))).toEqual({ ok: true, header: { ...DONE, counts: [1, 2, 3, 4, 0] } })
  })
})

/** Shapes a `counts` (5 items) or `states` (4 items) must refuse. */
function badLists(length: number): { what: string; value: unknown }[] {
  const ones = Array.from({ length }, () => 1)
  return [
    { what: 'nil', value: null },
    { what: 'an integer', value: 5 },
    { what: 'a string', value: '1,1,1,1,1' },
    { what: 'a map', value: { ok: 1 } },
    { what: 'empty', value: [] },
    { what: 'one item short', value: ones.slice(1) },
    { what: 'one item too many', value: [...ones, 1] },
    { what: 'holding a negative count', value: [-1, ...ones.slice(1)] },
    { what: 'holding a float', value: [1.5, ...ones.slice(1)] },
    { what: 'holding a string', value: ['1', ...ones.slice(1)] },
    { what: 'holding nil', value: [null, ...ones.slice(1)] },
    { what: 'holding an array', value: [[1], ...ones.slice(1)] },
    { what: 'a list of 16', value: Array.from({ length: 16 }, () => 0) },
  ]
}

describe.each([
  { key: 'counts', length: 5 },
  { key: 'states', length: 4 },
])('a done whose $key', ({ key, length }) => {
  it.each(badLists(length))('is malformed when it is $what', ({ value }) => {
    const result = validateWorkerHeader(encode({ ...DONE, counts: [1, 0, 0, 0, 0], ms: 1, [key]: value }))
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(new RegExp(`^header "${key}" must be an array of ${length} non-negative integers`)) })
  })

  it('is malformed when a count is beyond 2^53 (not a safe integer)', () => {
    const items = [uint64(2n ** 60n), ...Array.from({ length: length - 1 }, () => 0)]
    expect(validateWorkerHeader(rawDone(key, bytes(fixarray(length), ...items)))).toMatchObject({ ok: false, reason: expect.stringContaining(`header "${key}" must be`) })
  })

  it('is malformed when a count is a negative int64', () => {
    const items = [int64(-1n), ...Array.from({ length: length - 1 }, () => 0)]
    expect(validateWorkerHeader(rawDone(key, bytes(fixarray(length), ...items)))).toMatchObject({ ok: false, reason: expect.stringContaining(`header "${key}" must be`) })
  })
})

describe('a done whose ms', () => {
  it.each([
    { what: 'negative', value: encode(-1) },
    { what: 'a negative float', value: float64(-0.5) },
    { what: 'NaN', value: float64(Number.NaN) },
    { what: 'Infinity', value: float64(Number.POSITIVE_INFINITY) },
    { what: 'nil', value: Buffer.from([NIL]) },
    { what: 'a string', value: fixstr('12') },
    { what: 'an array', value: bytes(fixarray(1), 12) },
  ])('is malformed when it is $what', ({ value }) => {
    expect(validateWorkerHeader(rawDone('ms', value))).toMatchObject({ ok: false, reason: expect.stringMatching(/^header "ms" must be a finite number of milliseconds/) })
  })
})

describe('the keys of a done report on other headers', () => {
  it('are unknown keys there, and ignored whatever they hold', () => {
    const ready = { v: 1, type: 'ready', worker: 'w-1', capacity: 4 }
    expect(validateWorkerHeader(encode({ ...ready, counts: 'junk', ms: -1, states: [1] }))).toMatchObject({ ok: true, header: ready })
  })
})

describe('tallying a settled batch', () => {
  it('counts each outcome by its code', () => {
    const outcomes: CommandOutcome[] = [[0, 5], [0, 7], [1, null], [2, 'boom'], [3, null], [4, null], [4, null]]
    expect(tallyOutcomes(outcomes)).toEqual({ counts: [2, 1, 1, 1, 2] })
  })

  it('counts the states of code-0 check results, and gives no states when none came back', () => {
    const check = (state: number): CommandOutcome => [0, { state, output: 'x', ms: 1 }]
    const outcomes: CommandOutcome[] = [check(0), check(0), check(1), check(2), check(3), [0, 12], [2, 'boom']]
    expect(tallyOutcomes(outcomes)).toEqual({ counts: [6, 0, 1, 0, 0], states: [2, 1, 1, 1] })
    expect(tallyOutcomes([[0, 1], [0, 'text'], [0, null], [0, [1, 2]]])).toEqual({ counts: [4, 0, 0, 0, 0] })
  })

  it('looks at no state that is not an integer 0 to 3', () => {
    const outcomes: CommandOutcome[] = [[0, { state: 4 }], [0, { state: '1' }], [0, { state: 1.5 }], [0, { output: 'no state' }], [0, { state: -1 }]]
    expect(tallyOutcomes(outcomes)).toEqual({ counts: [5, 0, 0, 0, 0] })
  })
})
