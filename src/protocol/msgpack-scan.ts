/**
 * A strict MessagePack walker that reads bytes without building values.
 *
 * msgpackr's extension table is global and cannot be switched off per
 * decoder, and a crafted length claim or nesting depth is only caught deep in
 * its reader. So every untrusted frame is walked here first: exactly one
 * value, no extension types (CGP/1 forbids them anywhere), no claim larger
 * than the frame, bounded depth, no trailing bytes. Only then is it decoded.
 * The walk allocates nothing. Tags come from the one table in msgpack-tags.ts.
 */
import { Family, tagFamily, tagFixed, tagHead, tagLengthBytes } from './msgpack-tags.js'

/** Why a frame failed the walk, or `undefined` when it is well-formed. */
export type ScanFailure = string | undefined

/** The reason every reader gives for an extension type, wherever it sits. */
export const EXTENSION_REFUSED = 'extension types are not allowed'

/** What {@link peekToken} read. One shared object, overwritten by the next call: no allocation per token. */
export interface Token {
  family: Family
  /** Bytes of the tag, its length field and (extensions) its type byte. */
  head: number
  /** Payload bytes (scalars, strings, bins, extensions) or element count (arrays, maps). */
  size: number
}

const token: Token = { family: Family.Invalid, head: 0, size: 0 }

/** Reads `token.family` through a call so TypeScript keeps no narrowing across `readToken` calls. */
function family(): Family {
  return token.family
}

/** Reads the tag at `pos` into the shared `token`; returns false if the frame ends inside the tag. */
function readToken(buf: Uint8Array, pos: number): boolean {
  if (pos >= buf.length) return false
  const b = buf[pos]!
  const head = tagHead[b]!
  if (buf.length - pos < head) return false
  token.family = tagFamily[b]! as Family
  token.head = head
  token.size = sizeOf(buf, pos, b)
  return true
}

/** The payload size or element count of the token at `pos` whose tag is `b` (its head is in the frame). */
function sizeOf(buf: Uint8Array, pos: number, b: number): number {
  switch (tagLengthBytes[b]) {
    case 0:
      return tagFixed[b]!
    case 1:
      return buf[pos + 1]!
    case 2:
      return (buf[pos + 1]! << 8) | buf[pos + 2]!
    default:
      return buf[pos + 1]! * 0x1000000 + ((buf[pos + 2]! << 16) | (buf[pos + 3]! << 8) | buf[pos + 4]!)
  }
}

/** Values left to read in each enclosing container; reused by every walk (they are synchronous). */
let outer = new Float64Array(32)

/**
 * Walks one MessagePack value starting at `start` and returns the position
 * just after it, or a reason when it is cut short, lies about a length,
 * nests deeper than `maxDepth`, or holds an extension type. With
 * `extensions: 'skip'` an extension's payload is stepped over instead, for a
 * reader that has already noted the refusal and still wants the rest.
 */
export function skipValue(buf: Uint8Array, start: number, maxDepth: number, extensions: 'refuse' | 'skip' = 'refuse'): number | string {
  if (outer.length <= maxDepth) outer = new Float64Array(maxDepth + 1)
  const end = buf.length
  let depth = 0 // containers around the value being read
  let left = 1 // values still to read in the innermost container (or the one top-level value)
  let pos = start
  for (;;) {
    while (left === 0) {
      if (depth === 0) return pos
      left = outer[--depth]!
    }
    left--
    if (pos >= end) return 'truncated'
    const b = buf[pos]!
    const head = tagHead[b]!
    if (end - pos < head) return 'truncated'
    const family = tagFamily[b]!
    const size = sizeOf(buf, pos, b)
    pos += head
    if (family === Family.Array || family === Family.Map) {
      const items = family === Family.Map ? size * 2 : size
      // Every value takes at least one byte, so a larger claim is a lie.
      if (items > end - pos) return 'length claims more items than the frame holds'
      if (depth >= maxDepth) return `nested deeper than ${maxDepth}`
      if (items > 0) {
        outer[depth++] = left
        left = items
      }
    } else if (family === Family.Invalid) {
      return 'invalid type byte'
    } else {
      // Scalars, strings, bins; and extensions, as opaque bytes, when skipped.
      if (family === Family.Ext && extensions === 'refuse') return EXTENSION_REFUSED
      if (size > end - pos) return 'length claims more bytes than the frame holds'
      pos += size
    }
  }
}

/**
 * Walks one MessagePack value. Returns a reason when the frame is not exactly
 * one well-formed value without extension types and within `maxDepth`.
 */
export function scanMsgpack(buf: Uint8Array, maxDepth: number): ScanFailure {
  const end = skipValue(buf, 0, maxDepth)
  if (typeof end === 'string') return end
  return end === buf.length ? undefined : 'trailing bytes after the value'
}

/** Reads the tag at `pos`; exported for the header reader. @internal */
export function peekToken(buf: Uint8Array, pos: number): Readonly<Token> | undefined {
  return readToken(buf, pos) ? token : undefined
}

/**
 * Walks a task body: an array of `[string, string]` pairs. Returns the number
 * of pairs, or a reason when the body has another shape (an extension type
 * anywhere is named as such), is empty, or has more than `maxPairs` pairs
 * (then the reason is `'too-large'`). This lets the gateway check a body and
 * forward it untouched without decoding it.
 */
export function scanCommandPairs(buf: Uint8Array, maxPairs: number): number | string {
  const read = readToken(buf, 0)
  if (!read || family() !== Family.Array) return refusal(read, 'body is not an array')
  const count = token.size
  let pos = token.head
  if (count === 0) return 'body has no commands'
  if (count > maxPairs) return 'too-large'
  if (count * 3 > buf.length - pos) return 'length claims more items than the frame holds'
  for (let i = 0; i < count; i++) {
    const pair = readToken(buf, pos)
    if (!pair || family() !== Family.Array || token.size !== 2) return refusal(pair, `command ${i} is not an [address, command] pair`)
    pos += token.head
    for (let j = 0; j < 2; j++) {
      const member = readToken(buf, pos)
      if (!member || family() !== Family.Str) {
        return refusal(member, `command ${i} has ${j === 0 ? 'an address' : 'a command'} that is not a string`)
      }
      pos += token.head
      if (token.size > buf.length - pos) return 'length claims more bytes than the frame holds'
      pos += token.size
    }
  }
  return pos === buf.length ? count : 'trailing bytes after the value'
}

/** The reason for a token of the wrong shape: an extension is named as such, whatever was expected. */
function refusal(read: boolean, reason: string): string {
  return read && family() === Family.Ext ? EXTENSION_REFUSED : reason
}
