#!/usr/bin/env node
// The client's task-body encoder: `[[address, command], …]` from parsed
// command lines, hand-written (frames.ts until issue 10) against msgpackr's
// Packr.pack with the project's options, on the same commands.
//
//   npm run build && node bench/micro/task-body.mjs [--rounds 15] [--warmup 3] [--round-ms 40]
//
// Both sides start from what the batcher holds, `{ line, address, command }`
// objects; msgpackr needs the pairs as arrays, so building them is part of its
// cost. Before timing, each case checks that both sides decode to the same pairs.
import { Packr, Unpackr } from 'msgpackr'
import { commandListBody } from '../../dist/protocol/frames.js'
import { handCommandListBody } from './lib/retired.mjs'
import { assertSame, options, run } from './lib/measure.mjs'

const settings = options()
const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true })

/** Commands as tests/data/client_data.txt has them: IPv4 addresses, short command tokens. */
function commands(n, address = (i) => `137.72.${(i >> 8) & 255}.${i & 255}`) {
  return Array.from({ length: n }, (_, i) => ({ line: i + 1, address: address(i), command: i % 2 === 0 ? 'foo' : 'bar' }))
}

const cases = [
  { name: 'batch 16, IPv4', list: commands(16) },
  { name: 'batch 256, IPv4', list: commands(256) },
  { name: 'batch 10 000, IPv4', list: commands(10_000) },
  { name: 'batch 256, IPv6 and host names', list: commands(256, (i) => (i % 2 === 0 ? `2001:db8::${i.toString(16)}` : `host-${i}.example.org`)) },
  { name: 'batch 256, non-ASCII host names', list: commands(256, (i) => `hôte-${i}.exemple.fr`) },
]

const viaLibrary = (list) => packr.pack(list.map((c) => [c.address, c.command]))

for (const c of cases) {
  const pairs = c.list.map((x) => [x.address, x.command])
  assertSame(c.name, unpackr.unpack(handCommandListBody(c.list)), pairs)
  assertSame(c.name, unpackr.unpack(viaLibrary(c.list)), pairs)
  assertSame(`${c.name} (shipped)`, unpackr.unpack(commandListBody(c.list)), pairs)
}

run(
  'Task body encoder: hand = hand-written encodeCommands (frames.ts before issue 10), msgpackr = Packr.pack, shipped = frames.commandListBody now',
  cases.map((c) => ({
    name: c.name,
    sides: {
      hand: () => handCommandListBody(c.list),
      msgpackr: () => viaLibrary(c.list),
      shipped: () => commandListBody(c.list),
    },
  })),
  settings,
)
