/**
 * Every header read has one hidden class, kept alive for the life of the
 * process (src/protocol/header-reader.ts, HeaderFields). Built key by key,
 * the shapes of a gateway's `done` headers died between busy spells, and the
 * optimised readers were thrown away and compiled again on every run. V8's
 * own %HaveSameMap says whether two objects share a hidden class, so this
 * runs in a child node with --allow-natives-syntax, on the built module.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const reader = fileURLToPath(new URL('../../dist/protocol/header-reader.js', import.meta.url))
const codec = fileURLToPath(new URL('../../dist/protocol/codec.js', import.meta.url))

const script = `
const { readHeader, SHAPE_KEEPER, FLOAT_SHAPE_KEEPER } = await import(${JSON.stringify(reader)})
const { encode } = await import(${JSON.stringify(codec)})
const read = (header) => readHeader(encode(header), 4096, 8).fields
const headers = [
  read({ v: 1, type: 'task', id: '1', client: 'c', replyTo: 'tcp://127.0.0.1:1', attempt: 1 }),
  read({ v: 1, type: 'done', id: '1', client: 'c', counts: [1, 0, 0, 0, 0], ms: 0.25, states: [1, 0, 0, 0] }),
  read({ client: 'c', type: 'abort', v: 1 }),
  read({ v: 1, type: 'heartbeat', extra: { nested: true } }),
]
const floats = [readHeader(encode({ v: 1, type: 'done', id: '1', client: 'c', ms: 1.5 }), 4096, 8).fields.ms]
const before = headers.every((h) => %HaveSameMap(h, SHAPE_KEEPER))
// The keepers' shapes outlive every header read: collect, then read again.
headers.length = 0
globalThis.gc()
const again = read({ v: 1, type: 'ready', worker: 'w', capacity: 4 })
const againFloat = readHeader(encode({ v: 1, type: 'done', id: '1', client: 'c', ms: 2.5 }), 4096, 8).fields.ms
console.log(JSON.stringify({
  before,
  headers: [again, ...[read({ v: 1, type: 'done', id: '2', client: 'd', counts: [0, 1, 0, 0, 0], ms: 3 })]].every((h) => %HaveSameMap(h, SHAPE_KEEPER)),
  floats: [againFloat, ...floats].every((f) => %HaveSameMap(f, FLOAT_SHAPE_KEEPER)),
}))
`

describe('headers read from the wire', () => {
  it('share one hidden class whatever keys and order they carry, and it survives a full collection', () => {
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(JSON.parse(out)).toEqual({ before: true, headers: true, floats: true })
  })
})
