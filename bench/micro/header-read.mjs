#!/usr/bin/env node
// Reading a CGP/1 header from untrusted bytes: the hand-written reader
// (header-reader.ts readHeader: walks the map once, decodes only the keys
// CGP/1 defines) against msgpackr doing the same job safely (codec.ts
// decodeUntrusted: the scanner's walk, then Unpackr.unpack, then a check that
// the value is a map), and against a bare Unpackr.unpack plus the map check,
// which is not safe on the wire (see scan.mjs) and is listed only as the floor.
//
//   npm run build && node bench/micro/header-read.mjs [--rounds 15] [--warmup 3] [--round-ms 40]
//
// Field checks (validate.ts) come after either reader and cost the same, so
// they are left out. Before timing, each case checks that both readers see
// the same values for the keys CGP/1 defines.
import { Unpackr } from 'msgpackr'
import { decodeUntrusted } from '../../dist/protocol/codec.js'
import { HEARTBEAT_FRAME, resultFrame, taskFrame } from '../../dist/protocol/frames.js'
import { readHeader } from '../../dist/protocol/header-reader.js'
import { Limits } from '../../dist/protocol/limits.js'
import { encode } from '../../dist/protocol/codec.js'
import { assertSame, options, run } from './lib/measure.mjs'

const settings = options()
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' })
const { headerBytes, headerDepth } = Limits

const isMap = (value) => typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)

function viaLibrary(frame) {
  const decoded = decodeUntrusted(frame, headerBytes, headerDepth)
  return decoded.ok && isMap(decoded.value) ? decoded.value : undefined
}

function viaBareUnpack(frame) {
  try {
    const value = unpackr.unpack(frame)
    return isMap(value) ? value : undefined
  } catch {
    return undefined
  }
}

const cases = [
  { name: 'task header', frame: taskFrame('12345', '3f2c9a1e-8d4b-4c3a-9e2f-7b6a5d4c3b2a', 'tcp://127.0.0.1:5556', 1) },
  { name: 'result header', frame: resultFrame('12345', '3f2c9a1e-8d4b-4c3a-9e2f-7b6a5d4c3b2a', 'worker-1', 2) },
  { name: 'heartbeat', frame: HEARTBEAT_FRAME },
  {
    name: 'task header + 3 unknown keys',
    frame: encode({ v: 1, type: 'task', id: '12345', client: 'c-1', replyTo: 'tcp://127.0.0.1:5556', attempt: 1, trace: 'abc', tags: ['a', 'b'], meta: { x: 1 } }),
  },
]

for (const c of cases) {
  const hand = readHeader(c.frame, headerBytes, headerDepth)
  if (!hand.ok) throw new Error(`${c.name}: ${hand.reason}`)
  const lib = viaLibrary(c.frame)
  assertSame(c.name, hand.fields, Object.fromEntries(Object.keys(hand.fields).map((k) => [k, lib[k]])))
}

run(
  'Header reader: hand = header-reader.readHeader, msgpackr = decodeUntrusted (scan + Unpackr.unpack) + map check, bare = Unpackr.unpack + map check (unsafe)',
  cases.map((c) => ({
    name: c.name,
    sides: {
      hand: () => readHeader(c.frame, headerBytes, headerDepth),
      msgpackr: () => viaLibrary(c.frame),
      bare: () => viaBareUnpack(c.frame),
    },
  })),
  settings,
)
