/**
 * Every MessagePack type byte, declared once. The scanner, the header reader
 * and the hand-written encoders all read their tags from here, so what one
 * part of the project recognises the others recognise too (the format:
 * https://github.com/msgpack/msgpack/blob/master/spec.md).
 *
 * Extension types are listed so that they can be recognised and refused:
 * CGP/1 forbids them anywhere in a message (a timestamp, ext −1, included).
 */

/** The single-byte tags. */
export const Tag = {
  Nil: 0xc0,
  /** Never used by the format: a frame holding it is malformed. */
  NeverUsed: 0xc1,
  False: 0xc2,
  True: 0xc3,
  Bin8: 0xc4,
  Bin16: 0xc5,
  Bin32: 0xc6,
  Ext8: 0xc7,
  Ext16: 0xc8,
  Ext32: 0xc9,
  Float32: 0xca,
  Float64: 0xcb,
  Uint8: 0xcc,
  Uint16: 0xcd,
  Uint32: 0xce,
  Uint64: 0xcf,
  Int8: 0xd0,
  Int16: 0xd1,
  Int32: 0xd2,
  Int64: 0xd3,
  FixExt1: 0xd4,
  FixExt2: 0xd5,
  FixExt4: 0xd6,
  FixExt8: 0xd7,
  FixExt16: 0xd8,
  Str8: 0xd9,
  Str16: 0xda,
  Str32: 0xdb,
  Array16: 0xdc,
  Array32: 0xdd,
  Map16: 0xde,
  Map32: 0xdf,
} as const

/** The ranges whose low bits hold the value, the element count or the byte length. */
export const Fix = {
  /** 0x00–0x7f: the integers 0 to 127. */
  PositiveIntMax: 0x7f,
  /** 0x80–0x8f: maps of up to 15 entries. */
  Map: 0x80,
  MapMaxEntries: 15,
  /** 0x90–0x9f: arrays of up to 15 items. */
  Array: 0x90,
  ArrayMaxItems: 15,
  /** 0xa0–0xbf: strings of up to 31 UTF-8 bytes. */
  Str: 0xa0,
  StrMaxBytes: 31,
  /** 0xe0–0xff: the integers −32 to −1. */
  NegativeInt: 0xe0,
  NegativeIntMin: -32,
} as const

/** What a type byte introduces. */
export const Family = {
  Invalid: 0,
  Nil: 1,
  Bool: 2,
  Int: 3,
  Float: 4,
  Str: 5,
  Bin: 6,
  Array: 7,
  Map: 8,
  Ext: 9,
} as const
export type Family = (typeof Family)[keyof typeof Family]

interface TagForm {
  readonly name: string
  readonly family: Family
  /** Width of the big-endian length or count that follows the tag: 0, 1, 2 or 4 bytes. */
  readonly lengthBytes: 0 | 1 | 2 | 4
  /** Without a length field: payload bytes (scalars, fixext, fixstr) or items (fixarray, fixmap). */
  readonly fixed?: number
  /** Extension types carry a type byte after the length. */
  readonly typeByte?: true
}

/** One entry per tag or range: the declaration the lookup tables below are built from. */
const FORMS: readonly (readonly [first: number, last: number, form: TagForm])[] = [
  [0x00, Fix.PositiveIntMax, { name: 'positive fixint', family: Family.Int, lengthBytes: 0 }],
  [Fix.Map, Fix.Map + Fix.MapMaxEntries, { name: 'fixmap', family: Family.Map, lengthBytes: 0 }],
  [Fix.Array, Fix.Array + Fix.ArrayMaxItems, { name: 'fixarray', family: Family.Array, lengthBytes: 0 }],
  [Fix.Str, Fix.Str + Fix.StrMaxBytes, { name: 'fixstr', family: Family.Str, lengthBytes: 0 }],
  [Tag.Nil, Tag.Nil, { name: 'nil', family: Family.Nil, lengthBytes: 0, fixed: 0 }],
  [Tag.NeverUsed, Tag.NeverUsed, { name: 'never used', family: Family.Invalid, lengthBytes: 0, fixed: 0 }],
  [Tag.False, Tag.True, { name: 'bool', family: Family.Bool, lengthBytes: 0, fixed: 0 }],
  [Tag.Bin8, Tag.Bin8, { name: 'bin 8', family: Family.Bin, lengthBytes: 1 }],
  [Tag.Bin16, Tag.Bin16, { name: 'bin 16', family: Family.Bin, lengthBytes: 2 }],
  [Tag.Bin32, Tag.Bin32, { name: 'bin 32', family: Family.Bin, lengthBytes: 4 }],
  [Tag.Ext8, Tag.Ext8, { name: 'ext 8', family: Family.Ext, lengthBytes: 1, typeByte: true }],
  [Tag.Ext16, Tag.Ext16, { name: 'ext 16', family: Family.Ext, lengthBytes: 2, typeByte: true }],
  [Tag.Ext32, Tag.Ext32, { name: 'ext 32', family: Family.Ext, lengthBytes: 4, typeByte: true }],
  [Tag.Float32, Tag.Float32, { name: 'float 32', family: Family.Float, lengthBytes: 0, fixed: 4 }],
  [Tag.Float64, Tag.Float64, { name: 'float 64', family: Family.Float, lengthBytes: 0, fixed: 8 }],
  [Tag.Uint8, Tag.Uint8, { name: 'uint 8', family: Family.Int, lengthBytes: 0, fixed: 1 }],
  [Tag.Uint16, Tag.Uint16, { name: 'uint 16', family: Family.Int, lengthBytes: 0, fixed: 2 }],
  [Tag.Uint32, Tag.Uint32, { name: 'uint 32', family: Family.Int, lengthBytes: 0, fixed: 4 }],
  [Tag.Uint64, Tag.Uint64, { name: 'uint 64', family: Family.Int, lengthBytes: 0, fixed: 8 }],
  [Tag.Int8, Tag.Int8, { name: 'int 8', family: Family.Int, lengthBytes: 0, fixed: 1 }],
  [Tag.Int16, Tag.Int16, { name: 'int 16', family: Family.Int, lengthBytes: 0, fixed: 2 }],
  [Tag.Int32, Tag.Int32, { name: 'int 32', family: Family.Int, lengthBytes: 0, fixed: 4 }],
  [Tag.Int64, Tag.Int64, { name: 'int 64', family: Family.Int, lengthBytes: 0, fixed: 8 }],
  [Tag.FixExt1, Tag.FixExt1, { name: 'fixext 1', family: Family.Ext, lengthBytes: 0, fixed: 1, typeByte: true }],
  [Tag.FixExt2, Tag.FixExt2, { name: 'fixext 2', family: Family.Ext, lengthBytes: 0, fixed: 2, typeByte: true }],
  [Tag.FixExt4, Tag.FixExt4, { name: 'fixext 4', family: Family.Ext, lengthBytes: 0, fixed: 4, typeByte: true }],
  [Tag.FixExt8, Tag.FixExt8, { name: 'fixext 8', family: Family.Ext, lengthBytes: 0, fixed: 8, typeByte: true }],
  [Tag.FixExt16, Tag.FixExt16, { name: 'fixext 16', family: Family.Ext, lengthBytes: 0, fixed: 16, typeByte: true }],
  [Tag.Str8, Tag.Str8, { name: 'str 8', family: Family.Str, lengthBytes: 1 }],
  [Tag.Str16, Tag.Str16, { name: 'str 16', family: Family.Str, lengthBytes: 2 }],
  [Tag.Str32, Tag.Str32, { name: 'str 32', family: Family.Str, lengthBytes: 4 }],
  [Tag.Array16, Tag.Array16, { name: 'array 16', family: Family.Array, lengthBytes: 2 }],
  [Tag.Array32, Tag.Array32, { name: 'array 32', family: Family.Array, lengthBytes: 4 }],
  [Tag.Map16, Tag.Map16, { name: 'map 16', family: Family.Map, lengthBytes: 2 }],
  [Tag.Map32, Tag.Map32, { name: 'map 32', family: Family.Map, lengthBytes: 4 }],
  [Fix.NegativeInt, 0xff, { name: 'negative fixint', family: Family.Int, lengthBytes: 0, fixed: 0 }],
]

/** Low bits of a fix range that hold the count or length (0 for the fixints, whose value is the byte). */
const FIX_MASK: Readonly<Record<string, number>> = { fixmap: 0x0f, fixarray: 0x0f, fixstr: 0x1f }

/**
 * Lookup tables indexed by type byte, for the scanner's inner loop (one load
 * each instead of a chain of range tests).
 * - `family`: what the byte introduces;
 * - `head`: bytes before the payload: the tag, the length field and an extension's type byte;
 * - `lengthBytes`: width of the length or count after the tag, 0 when the tag itself says it;
 * - `fixed`: when `lengthBytes` is 0, the payload bytes or the element count.
 */
export const tagFamily = new Uint8Array(256)
export const tagHead = new Uint8Array(256)
export const tagLengthBytes = new Uint8Array(256)
export const tagFixed = new Uint8Array(256)
const tagNames: string[] = new Array<string>(256)

for (const [first, last, form] of FORMS) {
  for (let b = first; b <= last; b++) {
    if (tagNames[b] !== undefined) throw new Error(`MessagePack tag 0x${b.toString(16)} declared twice`)
    tagNames[b] = form.name
    tagFamily[b] = form.family
    tagLengthBytes[b] = form.lengthBytes
    tagHead[b] = 1 + form.lengthBytes + (form.typeByte === true ? 1 : 0)
    tagFixed[b] = form.fixed ?? b & (FIX_MASK[form.name] ?? 0)
  }
}
for (let b = 0; b < 256; b++) {
  if (tagNames[b] === undefined) throw new Error(`MessagePack tag 0x${b.toString(16)} not declared`)
}

/** The format's name for a type byte, for messages: `tagName(0xd6)` is `'fixext 4'`. */
export function tagName(byte: number): string {
  return tagNames[byte & 0xff]!
}
