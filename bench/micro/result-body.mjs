#!/usr/bin/env node
// The worker's result-body encoder: `[[code, value], …]`, hand-written for
// small integer and nil values (frames.ts outcomesBody) against msgpackr's
// Packr.pack with the project's options, on the same outcomes.
//
//   npm run build && node bench/micro/result-body.mjs [--rounds 15] [--warmup 3] [--round-ms 40]
//
// Before timing, each case checks that both sides decode to the same outcomes
// (the bytes may differ: the hand-written one writes 200 as int32, msgpackr as uint8).
// The last case is the hand-written path's worst: it walks the whole batch,
// meets a string at the end and hands everything to msgpackr.
import { Packr, Unpackr } from 'msgpackr'
import { outcomesBody } from '../../dist/protocol/frames.js'
import { assertSame, options, run } from './lib/measure.mjs'

const settings = options()
const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true })

/** What the simulated executor answers: code 0 with a small integer, a few code 1 (nil). */
function outcomes(n, value = (i) => i % 10) {
  return Array.from({ length: n }, (_, i) => (i % 17 === 16 ? [1, null] : [0, value(i)]))
}

const withFailureAtEnd = outcomes(256)
withFailureAtEnd[255] = [2, 'connection refused']

const cases = [
  { name: 'batch 16, values 0-9', outcomes: outcomes(16) },
  { name: 'batch 256, values 0-9', outcomes: outcomes(256) },
  { name: 'batch 10 000, values 0-9', outcomes: outcomes(10_000) },
  { name: 'batch 256, values up to 100 000', outcomes: outcomes(256, (i) => (i * 7919) % 100_000) },
  { name: 'batch 256, last one failed (str)', outcomes: withFailureAtEnd },
]

for (const c of cases) {
  assertSame(c.name, unpackr.unpack(outcomesBody(c.outcomes)), c.outcomes)
  assertSame(c.name, unpackr.unpack(packr.pack(c.outcomes)), c.outcomes)
}

run(
  'Result body encoder: hand = frames.outcomesBody (hand-written for integers and nil), msgpackr = Packr.pack',
  cases.map((c) => ({ name: c.name, sides: { hand: () => outcomesBody(c.outcomes), msgpackr: () => packr.pack(c.outcomes) } })),
  settings,
)
