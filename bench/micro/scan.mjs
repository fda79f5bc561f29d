#!/usr/bin/env node
// The cost of the strict MessagePack walk (msgpack-scan.ts scanMsgpack) that
// every untrusted frame goes through before msgpackr decodes it, against
// msgpackr's Unpackr.unpack in a try/catch on the same bytes.
//
//   npm run build && node bench/micro/scan.mjs [--rounds 15] [--warmup 3] [--round-ms 40]
//
// The walk is not a faster replacement of the library: it stays whatever it
// costs, because unpack alone is not safe on the wire: msgpackr's extension
// table is global and cannot be switched off (ext -1 comes back as a Date),
// it has no nesting bound (200 000 nested arrays blow the call stack), and it
// trusts length claims until it runs out of bytes. The table shows what the
// safety costs: `decodeUntrusted` (walk, then unpack) against the bare unpack.
import { Unpackr } from 'msgpackr'
import { decodeUntrusted, encode } from '../../dist/protocol/codec.js'
import { outcomesBody, taskFrame } from '../../dist/protocol/frames.js'
import { Limits } from '../../dist/protocol/limits.js'
import { scanMsgpack } from '../../dist/protocol/msgpack-scan.js'
import { options, run } from './lib/measure.mjs'

const settings = options()
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' })
const MAX = Limits.defaultMaxMessageBytes
const DEPTH = Limits.bodyDepth

function tryUnpack(frame) {
  try {
    return unpackr.unpack(frame)
  } catch {
    return undefined
  }
}

const checks = Array.from({ length: 16 }, (_, i) => [0, { state: i % 4, output: `OK - load average ${i}.0`, perfdata: `load=${i}`, ms: 12.5 }])
const cases = [
  { name: 'task header', frame: taskFrame('12345', '3f2c9a1e-8d4b-4c3a-9e2f-7b6a5d4c3b2a', 'tcp://127.0.0.1:5556', 1) },
  { name: 'result body, 256 small ints', frame: outcomesBody(Array.from({ length: 256 }, (_, i) => [0, i % 10])) },
  { name: 'result body, 16 check maps', frame: encode(checks) },
  { name: 'task body, 256 pairs', frame: encode(Array.from({ length: 256 }, (_, i) => [`137.72.95.${i}`, 'foo'])) },
]

for (const c of cases) {
  if (scanMsgpack(c.frame, DEPTH) !== undefined) throw new Error(`${c.name}: the walk refuses it`)
}

run(
  'Untrusted-frame walk: hand = scanMsgpack alone, msgpackr = try { Unpackr.unpack }, safe = decodeUntrusted (walk + unpack)',
  cases.map((c) => ({
    name: c.name,
    sides: {
      hand: () => scanMsgpack(c.frame, DEPTH),
      msgpackr: () => tryUnpack(c.frame),
      safe: () => decodeUntrusted(c.frame, MAX, DEPTH),
    },
  })),
  settings,
)
