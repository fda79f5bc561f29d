#!/usr/bin/env node
// Checking a task body without decoding it: msgpack-scan.ts scanCommandPairs
// (the gateway's check before it forwards the bytes untouched; the worker's
// before it decodes) against msgpackr doing the same job: decodeUntrusted
// (walk + Unpackr.unpack), then a check that the value is an array of 1 to
// maxBatch [string, string] pairs. `bare` skips the walk (unsafe on the wire,
// see scan.mjs) and is listed only as the library's floor.
//
//   npm run build && node bench/micro/task-body-scan.mjs [--rounds 15] [--warmup 3] [--round-ms 40]
import { Unpackr } from 'msgpackr'
import { decodeUntrusted, encode } from '../../dist/protocol/codec.js'
import { Limits } from '../../dist/protocol/limits.js'
import { scanCommandPairs } from '../../dist/protocol/msgpack-scan.js'
import { assertSame, options, run } from './lib/measure.mjs'

const settings = options()
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' })
const MAX_BATCH = Limits.defaultMaxBatch
const MAX_BYTES = Limits.defaultMaxMessageBytes

/** The pair count, or a reason, like scanCommandPairs. */
function checkPairs(value) {
  if (!Array.isArray(value)) return 'body is not an array'
  if (value.length === 0) return 'body has no commands'
  if (value.length > MAX_BATCH) return 'too-large'
  for (let i = 0; i < value.length; i++) {
    const pair = value[i]
    if (!Array.isArray(pair) || pair.length !== 2) return `command ${i} is not an [address, command] pair`
    if (typeof pair[0] !== 'string') return `command ${i} has an address that is not a string`
    if (typeof pair[1] !== 'string') return `command ${i} has a command that is not a string`
  }
  return value.length
}

function viaLibrary(body) {
  const decoded = decodeUntrusted(body, MAX_BYTES, 2)
  return decoded.ok ? checkPairs(decoded.value) : decoded.reason
}

function viaBareUnpack(body) {
  try {
    return checkPairs(unpackr.unpack(body))
  } catch (error) {
    return String(error)
  }
}

const body = (n) => encode(Array.from({ length: n }, (_, i) => [`137.72.${(i >> 8) & 255}.${i & 255}`, i % 2 === 0 ? 'foo' : 'bar']))
const cases = [
  { name: 'batch 16', body: body(16) },
  { name: 'batch 256', body: body(256) },
  { name: 'batch 10 000', body: body(10_000) },
]

for (const c of cases) assertSame(c.name, scanCommandPairs(c.body, MAX_BATCH), viaLibrary(c.body))

run(
  'Task body check: hand = scanCommandPairs, msgpackr = decodeUntrusted + pair check, bare = Unpackr.unpack + pair check (unsafe)',
  cases.map((c) => ({
    name: c.name,
    sides: {
      hand: () => scanCommandPairs(c.body, MAX_BATCH),
      msgpackr: () => viaLibrary(c.body),
      bare: () => viaBareUnpack(c.body),
    },
  })),
  settings,
)
