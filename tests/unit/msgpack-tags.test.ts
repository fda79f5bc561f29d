import { describe, expect, it } from 'vitest'
import { Family, Fix, Tag, tagFamily, tagFixed, tagHead, tagLengthBytes, tagName } from '../../src/protocol/msgpack-tags.js'

/**
 * The MessagePack spec's format table, typed out again from the spec
 * (github.com/msgpack/msgpack/blob/master/spec.md, "Overview"): first and last
 * byte, name, family, and the bytes before the payload.
 */
const SPEC: readonly [first: number, last: number, name: string, family: Family, head: number][] = [
  [0x00, 0x7f, 'positive fixint', Family.Int, 1],
  [0x80, 0x8f, 'fixmap', Family.Map, 1],
  [0x90, 0x9f, 'fixarray', Family.Array, 1],
  [0xa0, 0xbf, 'fixstr', Family.Str, 1],
  [0xc0, 0xc0, 'nil', Family.Nil, 1],
  [0xc1, 0xc1, 'never used', Family.Invalid, 1],
  [0xc2, 0xc3, 'bool', Family.Bool, 1],
  [0xc4, 0xc4, 'bin 8', Family.Bin, 2],
  [0xc5, 0xc5, 'bin 16', Family.Bin, 3],
  [0xc6, 0xc6, 'bin 32', Family.Bin, 5],
  [0xc7, 0xc7, 'ext 8', Family.Ext, 3],
  [0xc8, 0xc8, 'ext 16', Family.Ext, 4],
  [0xc9, 0xc9, 'ext 32', Family.Ext, 6],
  [0xca, 0xca, 'float 32', Family.Float, 1],
  [0xcb, 0xcb, 'float 64', Family.Float, 1],
  [0xcc, 0xcc, 'uint 8', Family.Int, 1],
  [0xcd, 0xcd, 'uint 16', Family.Int, 1],
  [0xce, 0xce, 'uint 32', Family.Int, 1],
  [0xcf, 0xcf, 'uint 64', Family.Int, 1],
  [0xd0, 0xd0, 'int 8', Family.Int, 1],
  [0xd1, 0xd1, 'int 16', Family.Int, 1],
  [0xd2, 0xd2, 'int 32', Family.Int, 1],
  [0xd3, 0xd3, 'int 64', Family.Int, 1],
  [0xd4, 0xd4, 'fixext 1', Family.Ext, 2],
  [0xd5, 0xd5, 'fixext 2', Family.Ext, 2],
  [0xd6, 0xd6, 'fixext 4', Family.Ext, 2],
  [0xd7, 0xd7, 'fixext 8', Family.Ext, 2],
  [0xd8, 0xd8, 'fixext 16', Family.Ext, 2],
  [0xd9, 0xd9, 'str 8', Family.Str, 2],
  [0xda, 0xda, 'str 16', Family.Str, 3],
  [0xdb, 0xdb, 'str 32', Family.Str, 5],
  [0xdc, 0xdc, 'array 16', Family.Array, 3],
  [0xdd, 0xdd, 'array 32', Family.Array, 5],
  [0xde, 0xde, 'map 16', Family.Map, 3],
  [0xdf, 0xdf, 'map 32', Family.Map, 5],
  [0xe0, 0xff, 'negative fixint', Family.Int, 1],
]

/** Payload bytes of the fixed-size forms (and element counts of the fix containers), from the spec. */
function specFixed(b: number): number | undefined {
  if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3)) return 0
  if (b >= 0x80 && b <= 0x9f) return b & 0x0f
  if (b >= 0xa0 && b <= 0xbf) return b & 0x1f
  const sizes: Record<number, number> = { 0xca: 4, 0xcb: 8, 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8, 0xd4: 1, 0xd5: 2, 0xd6: 4, 0xd7: 8, 0xd8: 16 }
  return sizes[b]
}

const bytes = SPEC.flatMap(([first, last, name, family, head]) =>
  Array.from({ length: last - first + 1 }, (_, i) => ({ byte: first + i, hex: `0x${(first + i).toString(16).padStart(2, '0')}`, name, family, head })),
)

describe('the MessagePack tag table', () => {
  it('declares each of the 256 type bytes exactly once, as the spec does', () => {
    expect(bytes.map((b) => b.byte)).toEqual(Array.from({ length: 256 }, (_, i) => i))
  })

  it.each(bytes)('knows $hex as $name', ({ byte, name, family, head }) => {
    expect(tagName(byte)).toBe(name)
    expect(tagFamily[byte]).toBe(family)
    expect(tagHead[byte]).toBe(head)
    const fixed = specFixed(byte)
    if (fixed === undefined) {
      // The length or count follows the tag, in the bytes the head counts beyond the tag (and an extension's type byte).
      expect(tagLengthBytes[byte]).toBe(head - 1 - (family === Family.Ext ? 1 : 0))
    } else {
      expect(tagLengthBytes[byte]).toBe(0)
      expect(tagFixed[byte]).toBe(fixed)
    }
  })

  it('gives every single-byte tag the value of the spec form it is named after', () => {
    const spelled = (name: string): string => name.replace(/ /g, '').toLowerCase()
    for (const [constant, byte] of Object.entries(Tag)) {
      const expected = constant === 'False' || constant === 'True' ? 'bool' : spelled(constant)
      expect(`${constant}: ${spelled(tagName(byte))}`).toBe(`${constant}: ${expected}`)
    }
    expect([Tag.False, Tag.True]).toEqual([0xc2, 0xc3])
  })

  it('gives the fix ranges their spec bounds', () => {
    expect([Fix.Map, Fix.Array, Fix.Str, Fix.NegativeInt]).toEqual([0x80, 0x90, 0xa0, 0xe0])
    expect([Fix.MapMaxEntries, Fix.ArrayMaxItems, Fix.StrMaxBytes, Fix.PositiveIntMax, Fix.NegativeIntMin]).toEqual([15, 15, 31, 127, -32])
    expect(tagName(Fix.Str + Fix.StrMaxBytes)).toBe('fixstr')
    expect(tagName(Fix.Str + Fix.StrMaxBytes + 1)).toBe('nil')
  })
})
