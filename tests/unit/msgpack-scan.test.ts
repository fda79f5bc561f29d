import { describe, expect, it } from 'vitest'
import { scanCommandPairs, scanMsgpack } from '../../src/protocol/msgpack-scan.js'
import { encode } from '../../src/protocol/codec.js'
import { commandsBody, taskFrame } from '../../src/protocol/frames.js'
import {
  FALSE,
  NIL,
  TRUE,
  array16,
  array32,
  bin8,
  bytes,
  fixarray,
  fixmap,
  fixstr,
  float32,
  int64,
  map16,
  map32,
  str16,
  str32,
  str8,
  uint16,
  uint32,
  uint64,
  uint8,
} from './support/raw-msgpack.js'

const DEPTH = 8

/** `count` keys k0..k{count-1} mapped to their index. */
function mapOf(count: number): Record<string, number> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i]))
}

describe('scanMsgpack on well-formed values', () => {
  // Each case names the MessagePack form it exercises and the tag byte that
  // proves our encoder really produced that form.
  it.each([
    { form: 'nil', value: null, tag: 0xc0 },
    { form: 'true', value: true, tag: 0xc3 },
    { form: 'false', value: false, tag: 0xc2 },
    { form: 'positive fixint', value: 127, tag: 0x7f },
    { form: 'negative fixint', value: -32, tag: 0xe0 },
    { form: 'uint8', value: 255, tag: 0xcc },
    { form: 'uint16', value: 65_535, tag: 0xcd },
    { form: 'uint32', value: 65_536, tag: 0xce },
    { form: 'int8', value: -128, tag: 0xd0 },
    { form: 'int16', value: -32_768, tag: 0xd1 },
    { form: 'int32', value: -(2 ** 31), tag: 0xd2 },
    { form: 'float64', value: 1.5, tag: 0xcb },
    { form: 'empty fixstr', value: '', tag: 0xa0 },
    { form: 'fixstr', value: 'a'.repeat(31), tag: 0xbf },
    { form: 'str8', value: 'a'.repeat(255), tag: 0xd9 },
    { form: 'str16', value: 'a'.repeat(256), tag: 0xda },
    { form: 'str32', value: 'a'.repeat(65_536), tag: 0xdb },
    { form: 'multi-byte str', value: 'é€😀', tag: 0xa9 },
    { form: 'bin8', value: Buffer.alloc(255), tag: 0xc4 },
    { form: 'bin16', value: Buffer.alloc(256), tag: 0xc5 },
    { form: 'bin32', value: Buffer.alloc(65_536), tag: 0xc6 },
    { form: 'empty fixarray', value: [], tag: 0x90 },
    { form: 'fixarray', value: Array(15).fill(0), tag: 0x9f },
    { form: 'array16', value: Array(16).fill(0), tag: 0xdc },
    { form: 'array32', value: Array(65_536).fill(0), tag: 0xdd },
    { form: 'empty fixmap', value: {}, tag: 0x80 },
    { form: 'fixmap', value: mapOf(15), tag: 0x8f },
    { form: 'map16', value: mapOf(16), tag: 0xde },
    { form: 'nested containers', value: { a: [1, { b: ['c', null, [true]] }], d: {} }, tag: 0x82 },
  ])('accepts $form', ({ value, tag }) => {
    const frame = encode(value)
    expect(frame[0]).toBe(tag)
    expect(scanMsgpack(frame, DEPTH)).toBeUndefined()
  })

  it.each([
    { form: 'uint8 holding a small value', frame: uint8(1) },
    { form: 'uint16', frame: uint16(1) },
    { form: 'uint32', frame: uint32(0xffff_ffff) },
    { form: 'uint64', frame: uint64(2n ** 64n - 1n) },
    { form: 'int64', frame: int64(-(2n ** 63n)) },
    { form: 'float32', frame: float32(0.5) },
    { form: 'str8 holding a short string', frame: str8('v') },
    { form: 'str16 holding a short string', frame: str16('v') },
    { form: 'str32 holding a short string', frame: str32('v') },
    { form: 'map16 holding one entry', frame: bytes(map16(1), fixstr('v'), 1) },
    { form: 'map32 holding one entry', frame: bytes(map32(1), fixstr('v'), 1) },
    { form: 'array16 holding one item', frame: bytes(array16(1), NIL) },
    { form: 'array32 holding one item', frame: bytes(array32(1), NIL) },
    { form: 'empty map32', frame: map32(0) },
  ])('accepts the hand-built $form', ({ frame }) => {
    expect(scanMsgpack(frame, DEPTH)).toBeUndefined()
  })

  it('accepts a real task header', () => {
    expect(scanMsgpack(taskFrame('1', 'client-1', 'tcp://127.0.0.1:5556', 1), DEPTH)).toBeUndefined()
  })

  it('accepts nesting exactly as deep as the limit', () => {
    const frame = bytes(Array(DEPTH).fill(fixarray(1)), 1)
    expect(scanMsgpack(frame, DEPTH)).toBeUndefined()
  })
})

describe('scanMsgpack on a frame cut short', () => {
  const header = taskFrame('42', 'client-1', 'tcp://127.0.0.1:5556', 3)
  const prefixes = Array.from({ length: header.length }, (_, length) => ({ length }))

  it.each(prefixes)('rejects the first $length bytes of a valid header', ({ length }) => {
    expect(scanMsgpack(header.subarray(0, length), DEPTH)).toEqual(expect.any(String))
  })

  it('calls an empty frame truncated', () => {
    expect(scanMsgpack(new Uint8Array(0), DEPTH)).toBe('truncated')
  })

  it.each([
    { form: 'str8 without its length', frame: bytes(0xd9) },
    { form: 'str16 with half its length', frame: bytes(0xda, 0x00) },
    { form: 'str32 with three length bytes', frame: bytes(0xdb, 0, 0, 0) },
    { form: 'bin8 without its length', frame: bytes(0xc4) },
    { form: 'array16 with half its length', frame: bytes(0xdc, 0x00) },
    { form: 'map32 with one length byte', frame: bytes(0xdf, 0x00) },
    { form: 'array missing its last item', frame: bytes(fixarray(2), fixstr('ab')) },
    { form: 'map missing its last value', frame: bytes(fixmap(1), fixstr('k')) },
  ])('calls the $form truncated', ({ frame }) => {
    expect(scanMsgpack(frame, DEPTH)).toBe('truncated')
  })
})

/** Minimal well-formed extensions, one per tag: tag, (length), type byte, data. */
const EXTENSIONS = [
  { tag: 'fixext 1 (0xd4)', frame: bytes(0xd4, 0x01, Array(1).fill(0)) },
  { tag: 'fixext 2 (0xd5)', frame: bytes(0xd5, 0x01, Array(2).fill(0)) },
  { tag: 'fixext 4 (0xd6), the 32-bit timestamp', frame: bytes(0xd6, 0xff, Array(4).fill(0)) }, // msgpackr would make a Date
  { tag: 'fixext 8 (0xd7), the 64-bit timestamp', frame: bytes(0xd7, 0xff, Array(8).fill(0)) },
  { tag: 'fixext 16 (0xd8)', frame: bytes(0xd8, 0x01, Array(16).fill(0)) },
  { tag: 'ext 8 (0xc7)', frame: bytes(0xc7, 0x01, 0x01, 0x00) },
  { tag: 'ext 8 (0xc7), the 96-bit timestamp', frame: bytes(0xc7, 0x0c, 0xff, Array(12).fill(0)) },
  { tag: 'ext 16 (0xc8)', frame: bytes(0xc8, 0x00, 0x01, 0x01, 0x00) },
  { tag: 'ext 32 (0xc9)', frame: bytes(0xc9, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00) },
  { tag: 'an empty ext 8 (0xc7)', frame: bytes(0xc7, 0x00, 0x01) },
  { tag: 'fixext 1 (0xd4) of type 0x72, a msgpackr record', frame: bytes(0xd4, 0x72, 0x40) },
]

describe('scanMsgpack on extension types', () => {
  it.each(EXTENSIONS)('rejects $tag at the top level', ({ frame }) => {
    expect(scanMsgpack(frame, DEPTH)).toBe('extension types are not allowed')
  })

  it.each(EXTENSIONS)('rejects $tag as a map value', ({ frame }) => {
    expect(scanMsgpack(bytes(fixmap(1), fixstr('v'), frame), DEPTH)).toBe('extension types are not allowed')
  })

  it.each(EXTENSIONS)('rejects $tag as a map key', ({ frame }) => {
    expect(scanMsgpack(bytes(fixmap(1), frame, 1), DEPTH)).toBe('extension types are not allowed')
  })

  it.each(EXTENSIONS)('rejects $tag as an array item after valid items', ({ frame }) => {
    expect(scanMsgpack(bytes(fixarray(3), 1, fixstr('x'), frame), DEPTH)).toBe('extension types are not allowed')
  })

  it.each(EXTENSIONS)('rejects $tag nested as deep as the limit allows', ({ frame }) => {
    expect(scanMsgpack(bytes(Array(DEPTH - 1).fill(fixarray(1)), frame), DEPTH)).toBe('extension types are not allowed')
  })
})

describe('scanCommandPairs on extension types', () => {
  const ADDRESS = fixstr('10.0.0.1')
  const COMMAND = fixstr('foo')
  const places = [
    { where: 'as the body', body: (ext: Buffer) => ext },
    { where: 'as a pair', body: (ext: Buffer) => bytes(fixarray(2), fixarray(2), ADDRESS, COMMAND, ext) },
    { where: 'as the address', body: (ext: Buffer) => bytes(fixarray(1), fixarray(2), ext, COMMAND) },
    { where: 'as the command', body: (ext: Buffer) => bytes(fixarray(2), fixarray(2), ADDRESS, COMMAND, fixarray(2), ADDRESS, ext) },
  ]
  const cases = EXTENSIONS.flatMap(({ tag, frame }) => places.map(({ where, body }) => ({ tag, where, body: body(frame) })))

  it.each(cases)('refuses $tag $where, and names it', ({ body }) => {
    expect(scanCommandPairs(body, 10_000)).toBe('extension types are not allowed')
  })

  it('does not call a tag byte alone, cut before its type byte, an extension', () => {
    expect(scanCommandPairs(bytes(fixarray(1), fixarray(2), ADDRESS, 0xd4), 10_000)).toBe('command 0 has a command that is not a string')
  })

  it('does not carry a refusal over to the next body', () => {
    expect(scanCommandPairs(bytes(0xd4, 0x01, 0x00), 10)).toBe('extension types are not allowed')
    expect(scanCommandPairs(Buffer.alloc(0), 10)).toBe('body is not an array')
    expect(scanCommandPairs(bytes(fixarray(1), 0xc9, 0x00, 0x00), 10)).toBe('command 0 is not an [address, command] pair')
  })
})

describe('scanMsgpack on the never-used byte 0xc1', () => {
  it.each([
    { where: 'alone', frame: bytes(0xc1) },
    { where: 'as an array item', frame: bytes(fixarray(2), 1, 0xc1) },
    { where: 'as a map key', frame: bytes(fixmap(1), 0xc1, 1) },
  ])('rejects it $where', ({ frame }) => {
    expect(scanMsgpack(frame, DEPTH)).toBe('invalid type byte')
  })
})

describe('scanMsgpack on deep nesting', () => {
  it('rejects arrays nested 100 deep', () => {
    const frame = bytes(Array(100).fill(fixarray(1)), 1)
    expect(scanMsgpack(frame, DEPTH)).toBe(`nested deeper than ${DEPTH}`)
  })

  it('rejects nesting one level deeper than the limit', () => {
    const frame = bytes(Array(DEPTH + 1).fill(fixarray(1)), 1)
    expect(scanMsgpack(frame, DEPTH)).toBe(`nested deeper than ${DEPTH}`)
  })

  it('rejects an empty container one level deeper than the limit', () => {
    const frame = bytes(Array(DEPTH).fill(fixarray(1)), fixarray(0))
    expect(scanMsgpack(frame, DEPTH)).toBe(`nested deeper than ${DEPTH}`)
  })

  it('rejects maps nested 100 deep', () => {
    const level = bytes(fixmap(1), fixstr('k'))
    const frame = bytes(...Array<Buffer>(100).fill(level), NIL)
    expect(scanMsgpack(frame, DEPTH)).toBe(`nested deeper than ${DEPTH}`)
  })

  it('counts depth per path, so many siblings at the limit are fine', () => {
    const leaf = bytes(Array(DEPTH - 1).fill(fixarray(1)), 1)
    const frame = bytes(fixarray(3), leaf, leaf, leaf)
    expect(scanMsgpack(frame, DEPTH)).toBeUndefined()
  })
})

describe('scanMsgpack on length claims larger than the frame', () => {
  it.each([
    { form: 'str32 claiming 0xffffffff bytes', frame: bytes(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61) },
    { form: 'bin32 claiming 0xffffffff bytes', frame: bytes(0xc6, 0xff, 0xff, 0xff, 0xff, 0x00) },
    { form: 'str16 claiming 0xffff bytes', frame: bytes(0xda, 0xff, 0xff, 0x61) },
    { form: 'fixstr claiming 5 bytes with 4 present', frame: bytes(0xa5, 0x61, 0x62, 0x63, 0x64) },
    { form: 'uint64 with 7 of its 8 bytes', frame: bytes(0xcf, Array(7).fill(0)) },
    { form: 'float64 with 1 of its 8 bytes', frame: bytes(0xcb, 0x00) },
  ])('rejects a $form', ({ frame }) => {
    expect(scanMsgpack(frame, DEPTH)).toBe('length claims more bytes than the frame holds')
  })

  it.each([
    { form: 'array32 claiming 0xffffffff items', frame: bytes(0xdd, 0xff, 0xff, 0xff, 0xff, 0x01) },
    { form: 'map32 claiming 0xffffffff entries', frame: bytes(0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01) },
    { form: 'map16 claiming 0xffff entries', frame: bytes(0xde, 0xff, 0xff, 0x01, 0x01) },
    { form: 'array32 nested in an array', frame: bytes(fixarray(1), 0xdd, 0xff, 0xff, 0xff, 0xff) },
  ])('rejects a $form without reading them', ({ frame }) => {
    expect(scanMsgpack(frame, DEPTH)).toBe('length claims more items than the frame holds')
  })
})

describe('scanMsgpack on bytes after the value', () => {
  it.each([
    { case: 'one zero byte after an integer', frame: bytes(encode(1), 0x00) },
    { case: 'two values back to back', frame: bytes(encode({ v: 1 }), encode({ v: 1 })) },
    { case: 'a header followed by its body', frame: bytes(taskFrame('1', 'c', 'tcp://h:1', 1), commandsBody([['h', 'c']])) },
  ])('rejects $case', ({ frame }) => {
    expect(scanMsgpack(frame, DEPTH)).toBe('trailing bytes after the value')
  })
})

describe('scanCommandPairs on valid task bodies', () => {
  it.each([
    { case: 'one pair', pairs: [['10.0.0.1', 'foo']] as [string, string][] },
    { case: 'three pairs', pairs: [['a', 'x'], ['2001:db8::1', 'y'], ['host.example', 'z']] as [string, string][] },
    {
      case: 'sixteen pairs (array16)',
      pairs: Array.from({ length: 16 }, (_, i): [string, string] => [`10.0.0.${i}`, 'foo']),
    },
    { case: 'long strings (str8 and str16)', pairs: [['h'.repeat(200), 'c'.repeat(300)]] as [string, string][] },
    { case: 'empty strings', pairs: [['', '']] as [string, string][] },
  ])('returns the number of pairs for $case', ({ pairs }) => {
    expect(scanCommandPairs(commandsBody(pairs), 10_000)).toBe(pairs.length)
  })

  it('accepts a body of exactly the limit', () => {
    const pairs = Array.from({ length: 5 }, (): [string, string] => ['h', 'c'])
    expect(scanCommandPairs(commandsBody(pairs), 5)).toBe(5)
  })

  it('accepts pairs written with str8 and array16 by another encoder', () => {
    const body = bytes(array16(2), array16(2), str8('h1'), str8('foo'), fixarray(2), str16('h2'), str32('bar'))
    expect(scanCommandPairs(body, 10)).toBe(2)
  })
})

describe('scanCommandPairs on a body over the limit', () => {
  it('answers too-large for one pair more than the limit', () => {
    const pairs = Array.from({ length: 6 }, (): [string, string] => ['h', 'c'])
    expect(scanCommandPairs(commandsBody(pairs), 5)).toBe('too-large')
  })

  it('answers too-large for an array32 claim of 0xffffffff pairs', () => {
    expect(scanCommandPairs(bytes(array32(0xffff_ffff)), 10_000)).toBe('too-large')
  })
})

describe('scanCommandPairs on a body of another shape', () => {
  const valid = commandsBody([
    ['10.0.0.1', 'foo'],
    ['10.0.0.2', 'bar'],
  ])

  it.each([
    { case: 'an empty array', body: encode([]) },
    { case: 'an empty buffer', body: Buffer.alloc(0) },
    { case: 'a map', body: encode({ a: 'b' }) },
    { case: 'a string', body: encode('10.0.0.1:foo') },
    { case: 'a flat array of strings', body: encode(['10.0.0.1', 'foo']) },
    { case: 'a pair of one member', body: encode([['10.0.0.1']]) },
    { case: 'a pair of three members', body: encode([['10.0.0.1', 'foo', 'x']]) },
    { case: 'a map in place of a pair', body: encode([{ 0: 'a', 1: 'b' }]) },
    { case: 'an integer address', body: encode([[1, 'foo']]) },
    { case: 'a nil command', body: encode([['10.0.0.1', null]]) },
    { case: 'a bin address', body: encode([[Buffer.from('10.0.0.1'), 'foo']]) },
    { case: 'a nested array command', body: encode([['10.0.0.1', ['foo']]]) },
    { case: 'a bad second pair', body: encode([['a', 'b'], ['c', 7]]) },
    { case: 'trailing bytes', body: bytes(valid, 0x00) },
    { case: 'a str32 member claiming 0xffffffff bytes', body: bytes(fixarray(1), fixarray(2), 0xdb, 0xff, 0xff, 0xff, 0xff, 0xa0) },
    { case: 'a count larger than the frame can hold', body: bytes(fixarray(3), fixarray(2), 0xa0, 0xa0) },
    { case: 'an extension type member', body: bytes(fixarray(1), fixarray(2), 0xd4, 0x01, 0x00, 0xa0) },
  ])('returns a reason for $case', ({ body }) => {
    const result = scanCommandPairs(body, 10_000)
    expect(result).toEqual(expect.any(String))
    expect(result).not.toBe('too-large')
  })

  it.each(Array.from({ length: valid.length }, (_, length) => ({ length })))(
    'returns a reason for the first $length bytes of a valid body',
    ({ length }) => {
      expect(scanCommandPairs(valid.subarray(0, length), 10_000)).toEqual(expect.any(String))
    },
  )

  it('names the index of the first bad pair', () => {
    expect(scanCommandPairs(encode([['a', 'b'], ['c', 7]]), 10)).toBe('command 1 has a command that is not a string')
  })
})

describe('scanMsgpack on scalars hand-built like other encoders', () => {
  it.each([
    { form: 'nil', frame: bytes(NIL) },
    { form: 'true', frame: bytes(TRUE) },
    { form: 'false', frame: bytes(FALSE) },
    { form: 'bin8', frame: bin8('abc') },
  ])('accepts $form', ({ frame }) => {
    expect(scanMsgpack(frame, DEPTH)).toBeUndefined()
  })
})
