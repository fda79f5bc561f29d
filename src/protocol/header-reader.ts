/**
 * Reads a CGP/1 header: a MessagePack map with string keys. Only the fields
 * CGP/1 defines are decoded, and only as scalars; the values of every other
 * key are skipped unread, whatever they hold (extension types included),
 * because the protocol says unknown keys MUST be ignored. Nothing here calls
 * msgpackr, so no extension handler ever sees untrusted bytes.
 */
import { peekToken, skipValue } from './msgpack-scan.js'

/** The keys CGP/1 defines in any header. */
const KNOWN_KEYS: ReadonlySet<string> = new Set([
  'v',
  'type',
  'id',
  'client',
  'replyTo',
  'attempt',
  'worker',
  'capacity',
  'reason',
  'retryable',
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

export type HeaderScalar = string | number | boolean | null | WireFloat | typeof NOT_A_SCALAR
export type HeaderFields = Record<string, HeaderScalar>

export type HeaderRead = { readonly ok: true; readonly fields: HeaderFields } | { readonly ok: false; readonly reason: string }

/** Reads the fields of a header frame; never throws. */
export function readHeader(frame: Uint8Array, maxBytes: number, maxDepth: number): HeaderRead {
  if (frame.length > maxBytes) return { ok: false, reason: `frame of ${frame.length} bytes exceeds ${maxBytes}` }
  const map = peekToken(frame, 0)
  if (map === undefined) return { ok: false, reason: frame.length === 0 ? 'empty frame' : 'truncated' }
  if (map.kind !== 'map') {
    // Tell a non-map from garbage: walk it as a plain value first.
    const end = skipValue(frame, 0, maxDepth, false)
    return { ok: false, reason: typeof end === 'string' ? end : 'not a map' }
  }
  // Copied out: peekToken reuses one object, and the loop peeks again.
  const entries = map.size
  let pos = map.head
  if (entries * 2 > frame.length - pos) return { ok: false, reason: 'length claims more items than the frame holds' }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const fields: HeaderFields = {}
  for (let i = 0; i < entries; i++) {
    const key = peekToken(frame, pos)
    if (key === undefined) return { ok: false, reason: 'truncated' }
    if (key.kind !== 'str') {
      // Not a key CGP/1 could define, so an unknown key: skip it and its value.
      const keyEnd = skipValue(frame, pos, maxDepth - 1, true)
      if (typeof keyEnd === 'string') return { ok: false, reason: keyEnd }
      const valueEnd = skipValue(frame, keyEnd, maxDepth - 1, true)
      if (typeof valueEnd === 'string') return { ok: false, reason: valueEnd }
      pos = valueEnd
      continue
    }
    const keyStart = pos + key.head
    const keyEnd = keyStart + key.size
    if (keyEnd > frame.length) return { ok: false, reason: 'length claims more bytes than the frame holds' }
    const name = Buffer.from(frame.buffer, frame.byteOffset + keyStart, key.size).toString('utf8')
    pos = keyEnd
    const valueEnd = skipValue(frame, pos, maxDepth - 1, true)
    if (typeof valueEnd === 'string') return { ok: false, reason: valueEnd }
    if (KNOWN_KEYS.has(name)) fields[name] = readScalar(frame, view, pos)
    pos = valueEnd
  }
  return pos === frame.length ? { ok: true, fields } : { ok: false, reason: 'trailing bytes after the value' }
}

/** Decodes the scalar at `pos` (already walked, so in bounds). */
function readScalar(buf: Uint8Array, view: DataView, pos: number): HeaderScalar {
  const b = buf[pos]!
  if (b <= 0x7f) return b
  if (b >= 0xe0) return b - 0x100
  if (b >= 0xa0 && b <= 0xbf) return text(buf, pos + 1, b & 0x1f)
  switch (b) {
    case 0xc0: return null
    case 0xc2: return false
    case 0xc3: return true
    case 0xcc: return view.getUint8(pos + 1)
    case 0xcd: return view.getUint16(pos + 1)
    case 0xce: return view.getUint32(pos + 1)
    case 0xcf: return Number(view.getBigUint64(pos + 1))
    case 0xd0: return view.getInt8(pos + 1)
    case 0xd1: return view.getInt16(pos + 1)
    case 0xd2: return view.getInt32(pos + 1)
    case 0xd3: return Number(view.getBigInt64(pos + 1))
    case 0xca: return new WireFloat(view.getFloat32(pos + 1))
    case 0xcb: return new WireFloat(view.getFloat64(pos + 1))
    case 0xd9: return text(buf, pos + 2, view.getUint8(pos + 1))
    case 0xda: return text(buf, pos + 3, view.getUint16(pos + 1))
    case 0xdb: return text(buf, pos + 5, view.getUint32(pos + 1))
    default: return NOT_A_SCALAR
  }
}

function text(buf: Uint8Array, start: number, length: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, length).toString('utf8')
}
