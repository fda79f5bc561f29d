/**
 * Hand-built MessagePack bytes for unit tests. Our own encoder (msgpackr)
 * picks one form per value; peers in other languages pick others (python's
 * msgpack writes fixmap/fixstr, some libraries always write map16/str8), and
 * hostile peers write anything. These helpers spell each form out byte by
 * byte so a test can say exactly which form it feeds in.
 */

/** A part of a frame: a single byte, or bytes. */
export type Part = number | Uint8Array | readonly number[]

/** Concatenates parts into one frame. */
export function bytes(...parts: Part[]): Buffer {
  return Buffer.concat(
    parts.map((part) => (typeof part === 'number' ? Buffer.from([part]) : Buffer.from(part as Uint8Array | number[]))),
  )
}

function be(value: number, width: 1 | 2 | 4): Buffer {
  const out = Buffer.alloc(width)
  if (width === 1) out.writeUInt8(value)
  else if (width === 2) out.writeUInt16BE(value)
  else out.writeUInt32BE(value)
  return out
}

/** fixstr (up to 31 bytes): what python's msgpack writes for short strings. */
export function fixstr(text: string): Buffer {
  const utf8 = Buffer.from(text, 'utf8')
  if (utf8.length > 31) throw new RangeError('fixstr holds at most 31 bytes')
  return bytes(0xa0 | utf8.length, utf8)
}

/** str8 (0xd9), even for strings that would fit a fixstr. */
export function str8(text: string): Buffer {
  const utf8 = Buffer.from(text, 'utf8')
  return bytes(0xd9, be(utf8.length, 1), utf8)
}

/** str16 (0xda). */
export function str16(text: string): Buffer {
  const utf8 = Buffer.from(text, 'utf8')
  return bytes(0xda, be(utf8.length, 2), utf8)
}

/** str32 (0xdb). */
export function str32(text: string): Buffer {
  const utf8 = Buffer.from(text, 'utf8')
  return bytes(0xdb, be(utf8.length, 4), utf8)
}

/** bin8 (0xc4): bytes, not a string. */
export function bin8(data: string | Uint8Array): Buffer {
  const raw = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data)
  return bytes(0xc4, be(raw.length, 1), raw)
}

/** The head of a fixmap with `entries` key/value pairs (0-15). */
export function fixmap(entries: number): number {
  return 0x80 | entries
}

/** The head of a map16 (0xde) with `entries` key/value pairs. */
export function map16(entries: number): Buffer {
  return bytes(0xde, be(entries, 2))
}

/** The head of a map32 (0xdf) with `entries` key/value pairs. */
export function map32(entries: number): Buffer {
  return bytes(0xdf, be(entries, 4))
}

/** The head of a fixarray with `items` elements (0-15). */
export function fixarray(items: number): number {
  return 0x90 | items
}

/** The head of an array16 (0xdc). */
export function array16(items: number): Buffer {
  return bytes(0xdc, be(items, 2))
}

/** The head of an array32 (0xdd). */
export function array32(items: number): Buffer {
  return bytes(0xdd, be(items, 4))
}

/** uint8 (0xcc), even for values that fit a positive fixint. */
export function uint8(value: number): Buffer {
  return bytes(0xcc, be(value, 1))
}

/** uint16 (0xcd). */
export function uint16(value: number): Buffer {
  return bytes(0xcd, be(value, 2))
}

/** uint32 (0xce). */
export function uint32(value: number): Buffer {
  return bytes(0xce, be(value, 4))
}

/** uint64 (0xcf). */
export function uint64(value: bigint): Buffer {
  const out = Buffer.alloc(9)
  out[0] = 0xcf
  out.writeBigUInt64BE(value, 1)
  return out
}

/** int64 (0xd3). */
export function int64(value: bigint): Buffer {
  const out = Buffer.alloc(9)
  out[0] = 0xd3
  out.writeBigInt64BE(value, 1)
  return out
}

/** float32 (0xca). */
export function float32(value: number): Buffer {
  const out = Buffer.alloc(5)
  out[0] = 0xca
  out.writeFloatBE(value, 1)
  return out
}

/** float64 (0xcb). */
export function float64(value: number): Buffer {
  const out = Buffer.alloc(9)
  out[0] = 0xcb
  out.writeDoubleBE(value, 1)
  return out
}

export const NIL = 0xc0
export const FALSE = 0xc2
export const TRUE = 0xc3
