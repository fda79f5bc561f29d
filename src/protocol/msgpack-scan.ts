/**
 * A strict MessagePack walker that reads bytes without building values.
 *
 * msgpackr's extension table is global and cannot be switched off per
 * decoder, and a crafted length claim or nesting depth is only caught deep in
 * its reader. So every untrusted frame is walked here first: exactly one
 * value, no extension types, no claim larger than the frame, bounded depth,
 * no trailing bytes. Only then is it decoded. The walk allocates nothing.
 */

/** Why a frame failed the walk, or `undefined` when it is well-formed. */
export type ScanFailure = string | undefined

const enum Kind {
  Bad,
  Scalar,
  Str,
  Bin,
  Array,
  Map,
  Ext,
}

interface Token {
  kind: Kind
  /** Bytes of the tag and its length field. */
  head: number
  /** Payload bytes (scalars, strings, bins) or element count (arrays, maps). */
  size: number
}

const token: Token = { kind: Kind.Bad, head: 0, size: 0 }

/** Reads `token.kind` through a call so TypeScript does not keep a narrowing across `readToken` calls. */
function kind(): Kind {
  return token.kind
}

/** Reads the tag at `pos` into the shared `token`; returns false if the frame ends inside the tag. */
function readToken(buf: Uint8Array, pos: number): boolean {
  const available = buf.length - pos
  if (available < 1) return false
  const b = buf[pos]!
  token.head = 1
  token.size = 0
  if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) {
    token.kind = Kind.Scalar
    return true
  }
  if (b >= 0xa0 && b <= 0xbf) return set(Kind.Str, 1, b & 0x1f)
  if (b >= 0x90 && b <= 0x9f) return set(Kind.Array, 1, b & 0x0f)
  if (b >= 0x80 && b <= 0x8f) return set(Kind.Map, 1, b & 0x0f)
  switch (b) {
    case 0xcc: case 0xd0: return set(Kind.Scalar, 1, 1)
    case 0xcd: case 0xd1: return set(Kind.Scalar, 1, 2)
    case 0xce: case 0xd2: case 0xca: return set(Kind.Scalar, 1, 4)
    case 0xcf: case 0xd3: case 0xcb: return set(Kind.Scalar, 1, 8)
    case 0xd9: return available >= 2 && set(Kind.Str, 2, buf[pos + 1]!)
    case 0xda: return available >= 3 && set(Kind.Str, 3, u16(buf, pos + 1))
    case 0xdb: return available >= 5 && set(Kind.Str, 5, u32(buf, pos + 1))
    case 0xc4: return available >= 2 && set(Kind.Bin, 2, buf[pos + 1]!)
    case 0xc5: return available >= 3 && set(Kind.Bin, 3, u16(buf, pos + 1))
    case 0xc6: return available >= 5 && set(Kind.Bin, 5, u32(buf, pos + 1))
    case 0xdc: return available >= 3 && set(Kind.Array, 3, u16(buf, pos + 1))
    case 0xdd: return available >= 5 && set(Kind.Array, 5, u32(buf, pos + 1))
    case 0xde: return available >= 3 && set(Kind.Map, 3, u16(buf, pos + 1))
    case 0xdf: return available >= 5 && set(Kind.Map, 5, u32(buf, pos + 1))
    // Extension types: the tag, a length (unless fixed), a type byte, then the payload.
    case 0xd4: return available >= 2 && set(Kind.Ext, 2, 1)
    case 0xd5: return available >= 2 && set(Kind.Ext, 2, 2)
    case 0xd6: return available >= 2 && set(Kind.Ext, 2, 4)
    case 0xd7: return available >= 2 && set(Kind.Ext, 2, 8)
    case 0xd8: return available >= 2 && set(Kind.Ext, 2, 16)
    case 0xc7: return available >= 3 && set(Kind.Ext, 3, buf[pos + 1]!)
    case 0xc8: return available >= 4 && set(Kind.Ext, 4, u16(buf, pos + 1))
    case 0xc9: return available >= 6 && set(Kind.Ext, 6, u32(buf, pos + 1))
    default: // 0xc1 is never used
      return set(Kind.Bad, 1, 0)
  }
}

function set(kind: Kind, head: number, size: number): true {
  token.kind = kind
  token.head = head
  token.size = size
  return true
}

function u16(buf: Uint8Array, pos: number): number {
  return (buf[pos]! << 8) | buf[pos + 1]!
}

function u32(buf: Uint8Array, pos: number): number {
  return buf[pos]! * 0x1000000 + ((buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!)
}

/**
 * Walks one MessagePack value starting at `start` and returns the position
 * just after it, or a reason when it is cut short, lies about a length,
 * nests deeper than `maxDepth`, or (unless `allowExt`) uses an extension type.
 * Extension payloads, when allowed, are skipped as opaque bytes.
 */
export function skipValue(buf: Uint8Array, start: number, maxDepth: number, allowExt: boolean): number | string {
  // remaining[d] = values still to read at depth d; depth 0 is the value itself.
  const remaining: number[] = [1]
  let pos = start
  while (remaining.length > 0) {
    const top = remaining.length - 1
    if (remaining[top] === 0) {
      remaining.pop()
      continue
    }
    remaining[top]!--
    if (!readToken(buf, pos)) return 'truncated'
    const { kind, head, size } = token
    pos += head
    switch (kind) {
      case Kind.Bad:
        return 'invalid type byte'
      case Kind.Ext:
        if (!allowExt) return 'extension types are not allowed'
        if (size > buf.length - pos) return 'length claims more bytes than the frame holds'
        pos += size
        break
      case Kind.Scalar:
      case Kind.Str:
      case Kind.Bin:
        if (size > buf.length - pos) return 'length claims more bytes than the frame holds'
        pos += size
        break
      case Kind.Array:
      case Kind.Map: {
        const items = kind === Kind.Map ? size * 2 : size
        // Every value takes at least one byte, so a larger claim is a lie.
        if (items > buf.length - pos) return 'length claims more items than the frame holds'
        if (remaining.length > maxDepth) return `nested deeper than ${maxDepth}`
        if (items > 0) remaining.push(items)
        break
      }
    }
  }
  return pos
}

/**
 * Walks one MessagePack value. Returns a reason when the frame is not exactly
 * one well-formed value without extension types and within `maxDepth`.
 */
export function scanMsgpack(buf: Uint8Array, maxDepth: number): ScanFailure {
  const end = skipValue(buf, 0, maxDepth, false)
  if (typeof end === 'string') return end
  return end === buf.length ? undefined : 'trailing bytes after the value'
}

/** What {@link peekToken} read. One shared object, overwritten by the next call: no allocation per token. */
export interface PeekedToken {
  kind: 'str' | 'map' | 'other'
  head: number
  size: number
}

const peeked: PeekedToken = { kind: 'other', head: 0, size: 0 }

/** Reads the tag at `pos`; exported for the header reader. @internal */
export function peekToken(buf: Uint8Array, pos: number): Readonly<PeekedToken> | undefined {
  if (!readToken(buf, pos)) return undefined
  const k = kind()
  peeked.kind = k === Kind.Str ? 'str' : k === Kind.Map ? 'map' : 'other'
  peeked.head = token.head
  peeked.size = token.size
  return peeked
}

/**
 * Walks a task body: an array of `[string, string]` pairs. Returns the number
 * of pairs, or a reason when the body has another shape, is empty, or has more
 * than `maxPairs` pairs (then the reason is `'too-large'`). This lets the
 * gateway check a body and forward it untouched without decoding it.
 */
export function scanCommandPairs(buf: Uint8Array, maxPairs: number): number | string {
  if (!readToken(buf, 0) || kind() !== Kind.Array) return 'body is not an array'
  const count = token.size
  let pos = token.head
  if (count === 0) return 'body has no commands'
  if (count > maxPairs) return 'too-large'
  if (count * 3 > buf.length - pos) return 'length claims more items than the frame holds'
  for (let i = 0; i < count; i++) {
    if (!readToken(buf, pos) || kind() !== Kind.Array || token.size !== 2) {
      return `command ${i} is not an [address, command] pair`
    }
    pos += token.head
    for (let j = 0; j < 2; j++) {
      if (!readToken(buf, pos) || kind() !== Kind.Str) {
        return `command ${i} has ${j === 0 ? 'an address' : 'a command'} that is not a string`
      }
      pos += token.head
      if (token.size > buf.length - pos) return 'length claims more bytes than the frame holds'
      pos += token.size
    }
  }
  return pos === buf.length ? count : 'trailing bytes after the value'
}
