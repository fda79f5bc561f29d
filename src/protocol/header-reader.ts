/**
 * Reads a CGP/1 header: a MessagePack map with string keys, in one pass.
 * Only the fields CGP/1 defines are decoded, and only as scalars or short
 * lists of integers (a `done`'s `counts` and `states`); the values
 * of every other key are walked and skipped, because the protocol says
 * unknown keys MUST be ignored. An extension type anywhere makes the header
 * malformed (CGP/1 forbids them), but the walk goes on to the end so that the
 * fields can still name who to answer `rejected` `malformed`.
 *
 * Hand-written rather than msgpackr's unpack after the scanner's walk, which
 * it beats on every header (bench/micro/header-read.mjs), and because msgpackr
 * cannot say what CGP/1 needs to know: it reads the float 1.0 as the integer 1
 * and turns a bin or array key spelling "client" into the key "client".
 */
import { EXTENSION_REFUSED, peekToken, skipValue } from './msgpack-scan.js'
import { Family, Fix, Tag } from './msgpack-tags.js'
import { REJECT_REASONS } from './types.js'

/**
 * Words matched by their UTF-8 bytes, so that a string on the wire that is
 * one of them costs no decoding: the result is the interned constant.
 */
class Vocabulary<W extends string = string> {
  private readonly byLength: { readonly word: W; readonly utf8: Uint8Array }[][] = []

  constructor(words: readonly W[]) {
    for (const word of words) {
      const utf8 = Buffer.from(word, 'utf8')
      ;(this.byLength[utf8.length] ??= []).push({ word, utf8 })
    }
  }

  /** The word whose bytes are `buf[start, start + length)`, or undefined. */
  find(buf: Uint8Array, start: number, length: number): W | undefined {
    const candidates = this.byLength[length]
    if (candidates === undefined) return undefined
    next: for (const { word, utf8 } of candidates) {
      for (let i = 0; i < length; i++) if (buf[start + i] !== utf8[i]) continue next
      return word
    }
    return undefined
  }
}

/** The keys CGP/1 defines in any header. */
const KEY_NAMES = ['v', 'type', 'id', 'client', 'replyTo', 'replyKey', 'attempt', 'worker', 'capacity', 'reason', 'retryable', 'counts', 'ms', 'states'] as const
export type HeaderKey = (typeof KEY_NAMES)[number]
const KNOWN_KEYS = new Vocabulary(KEY_NAMES)

/** The values of `type` and `reason` that CGP/1 defines; any other string is decoded. */
const KNOWN_VALUES = new Vocabulary([
  ...['task', 'abort', 'result', 'rejected', 'ready', 'done', 'heartbeat', 'stop', 'cancel', 'bye'],
  ...REJECT_REASONS,
])

/** Stands for a known key whose value is not a scalar; validation then reports its type. */
export const NOT_A_SCALAR: unique symbol = Symbol('not a scalar')

/**
 * A MessagePack float. Kept apart from integers because CGP/1 types `v`,
 * `attempt` and `capacity` as integers: 1.0 on the wire is the wrong type even
 * though JavaScript would call it an integer.
 */
export class WireFloat {
  constructor(readonly value: number) {}
  toString(): string {
    return `the float ${this.value}`
  }
}

/** Never read: it holds WireFloat's shape for as long as the process runs (see {@link HeaderFields} for why). */
export const FLOAT_SHAPE_KEEPER: WireFloat = new WireFloat(0.5)

/**
 * A known field's value: a scalar, or a list of at most {@link MAX_INT_LIST}
 * integers (CGP/1's only array fields). Any other array, and any map, is
 * {@link NOT_A_SCALAR}.
 */
export type HeaderScalar = string | number | boolean | null | WireFloat | readonly number[] | typeof NOT_A_SCALAR

/** The longest integer list decoded: `counts` has 5 items; anything longer is the wrong type anyway. */
export const MAX_INT_LIST = 8

/**
 * The known fields of one header; a field the frame did not carry is
 * undefined (nil on the wire reads as null, so it is present).
 *
 * Every header gets this one shape, whatever keys its frame held and in
 * whatever order, and {@link SHAPE_KEEPER} keeps that shape alive. V8 holds
 * the hidden class an object reaches by adding fields only while some object
 * has it. Built key by key from `{}`, the headers' shapes died between two
 * busy spells of a gateway, and every optimised function that had seen them
 * was thrown away and compiled again (V8's "weak objects" deoptimisation:
 * 2-3x the compile work per run of P7).
 */
export class HeaderFields {
  v: HeaderScalar | undefined = undefined
  type: HeaderScalar | undefined = undefined
  id: HeaderScalar | undefined = undefined
  client: HeaderScalar | undefined = undefined
  replyTo: HeaderScalar | undefined = undefined
  replyKey: HeaderScalar | undefined = undefined
  attempt: HeaderScalar | undefined = undefined
  worker: HeaderScalar | undefined = undefined
  capacity: HeaderScalar | undefined = undefined
  reason: HeaderScalar | undefined = undefined
  retryable: HeaderScalar | undefined = undefined
  counts: HeaderScalar | undefined = undefined
  ms: HeaderScalar | undefined = undefined
  states: HeaderScalar | undefined = undefined
}

/** Never read: it holds the one header shape for as long as the process runs (see {@link HeaderFields}). */
export const SHAPE_KEEPER: HeaderFields = new HeaderFields()

/**
 * A header that failed to read. `fields` is present when the frame was a
 * whole map that broke a rule of CGP/1 rather than of MessagePack (it held an
 * extension type): then the known fields could still be read.
 */
export type HeaderRead =
  | { readonly ok: true; readonly fields: HeaderFields }
  | { readonly ok: false; readonly reason: string; readonly fields?: HeaderFields }

/** Reads the fields of a header frame; never throws. */
export function readHeader(frame: Uint8Array, maxBytes: number, maxDepth: number): HeaderRead {
  if (frame.length > maxBytes) return { ok: false, reason: `frame of ${frame.length} bytes exceeds ${maxBytes}` }
  const map = peekToken(frame, 0)
  if (map === undefined) return { ok: false, reason: frame.length === 0 ? 'empty frame' : 'truncated' }
  if (map.family !== Family.Map) {
    // Tell a non-map from garbage: walk it as a plain value first.
    const end = skipValue(frame, 0, maxDepth)
    return { ok: false, reason: typeof end === 'string' ? end : 'not a map' }
  }
  // Copied out: peekToken reuses one object, and the loop peeks again.
  const entries = map.size
  let pos = map.head
  if (entries * 2 > frame.length - pos) return { ok: false, reason: 'length claims more items than the frame holds' }
  const fields = new HeaderFields()
  sawExtension = false
  for (let i = 0; i < entries; i++) {
    const key = peekToken(frame, pos)
    if (key === undefined) return { ok: false, reason: 'truncated' }
    let name: HeaderKey | undefined
    if (key.family === Family.Str) {
      const start = pos + key.head
      pos = start + key.size
      if (pos > frame.length) return { ok: false, reason: 'length claims more bytes than the frame holds' }
      name = KNOWN_KEYS.find(frame, start, key.size)
    } else {
      // Not a key CGP/1 could define, so an unknown key: skip it, then its value.
      const keyEnd = valueEnd(frame, pos, maxDepth - 1)
      if (typeof keyEnd === 'string') return { ok: false, reason: keyEnd }
      pos = keyEnd
    }
    const end = valueEnd(frame, pos, maxDepth - 1)
    if (typeof end === 'string') return { ok: false, reason: end }
    if (name !== undefined) fields[name] = readScalar(frame, pos)
    pos = end
  }
  if (pos !== frame.length) return { ok: false, reason: 'trailing bytes after the value' }
  return sawExtension ? { ok: false, reason: EXTENSION_REFUSED, fields } : { ok: true, fields }
}

/** Set by {@link valueEnd} when it stepped over an extension type; reset by each readHeader (which is synchronous). */
let sawExtension = false

/**
 * The end of the value at `pos`, or a reason when it is broken. An extension
 * type is noted in `sawExtension` and stepped over, so that the fields after
 * it are still read.
 */
function valueEnd(frame: Uint8Array, pos: number, maxDepth: number): number | string {
  const value = peekToken(frame, pos)
  if (value === undefined) return 'truncated'
  // Most header values are scalars and strings: their end is in their tag.
  if (value.family !== Family.Array && value.family !== Family.Map && value.family !== Family.Ext && value.family !== Family.Invalid) {
    const end = pos + value.head + value.size
    return end <= frame.length ? end : 'length claims more bytes than the frame holds'
  }
  const end = skipValue(frame, pos, maxDepth)
  if (end !== EXTENSION_REFUSED) return end
  sawExtension = true
  return skipValue(frame, pos, maxDepth, 'skip')
}

/** Decodes the scalar at `pos` (already walked, so in bounds). */
function readScalar(buf: Uint8Array, pos: number): HeaderScalar {
  const b = buf[pos]!
  if (b <= Fix.PositiveIntMax) return b
  if (b >= Fix.NegativeInt) return b - 0x100
  if (b >= Fix.Str && b <= Fix.Str + Fix.StrMaxBytes) return text(buf, pos + 1, b - Fix.Str)
  switch (b) {
    case Tag.Nil: return null
    case Tag.False: return false
    case Tag.True: return true
    case Tag.Uint8: return buf[pos + 1]!
    case Tag.Uint16: return u16(buf, pos + 1)
    case Tag.Uint32: return u32(buf, pos + 1)
    case Tag.Uint64: return Number(view(buf).getBigUint64(pos + 1))
    case Tag.Int8: return (buf[pos + 1]! << 24) >> 24
    case Tag.Int16: return (u16(buf, pos + 1) << 16) >> 16
    case Tag.Int32: return u32(buf, pos + 1) | 0
    case Tag.Int64: return Number(view(buf).getBigInt64(pos + 1))
    case Tag.Float32: return new WireFloat(view(buf).getFloat32(pos + 1))
    case Tag.Float64: return new WireFloat(view(buf).getFloat64(pos + 1))
    case Tag.Str8: return text(buf, pos + 2, buf[pos + 1]!)
    case Tag.Str16: return text(buf, pos + 3, u16(buf, pos + 1))
    case Tag.Str32: return text(buf, pos + 5, u32(buf, pos + 1))
    case Tag.Array16:
    case Tag.Array32: return intList(buf, pos)
    default: return b >= Fix.Array && b <= Fix.Array + Fix.ArrayMaxItems ? intList(buf, pos) : NOT_A_SCALAR
  }
}

/** The array at `pos` (already walked) as numbers, when it is a short list of integers only. */
function intList(buf: Uint8Array, pos: number): readonly number[] | typeof NOT_A_SCALAR {
  const list = peekToken(buf, pos)!
  const length = list.size
  if (length > MAX_INT_LIST) return NOT_A_SCALAR
  let at = pos + list.head
  const out = new Array<number>(length)
  for (let i = 0; i < length; i++) {
    // peekToken reuses one object: read what is needed before readScalar.
    const item = peekToken(buf, at)!
    if (item.family !== Family.Int) return NOT_A_SCALAR
    const end = at + item.head + item.size
    out[i] = readScalar(buf, at) as number
    at = end
  }
  return out
}

function u16(buf: Uint8Array, pos: number): number {
  return (buf[pos]! << 8) | buf[pos + 1]!
}

function u32(buf: Uint8Array, pos: number): number {
  return buf[pos]! * 0x1000000 + ((buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!)
}

/** Only the rare 64-bit and float fields need one, so it is not made for every header. */
function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
}

/** Strings up to this many bytes are decoded in JavaScript when they are ASCII: cheaper than a call into C++. */
const SHORT_TEXT = 8

function text(buf: Uint8Array, start: number, length: number): string {
  const known = KNOWN_VALUES.find(buf, start, length)
  if (known !== undefined) return known
  if (length <= SHORT_TEXT) {
    let ascii = ''
    for (let i = start, end = start + length; i < end; i++) {
      const c = buf[i]!
      if (c >= 0x80) return utf8(buf, start, length)
      ascii += String.fromCharCode(c)
    }
    return ascii
  }
  return utf8(buf, start, length)
}

function utf8(buf: Uint8Array, start: number, length: number): string {
  // Frames from ZeroMQ are Buffers, which decode a slice of themselves without a new view object.
  if (Buffer.isBuffer(buf)) return buf.toString('utf8', start, start + length)
  return Buffer.from(buf.buffer, buf.byteOffset + start, length).toString('utf8')
}
