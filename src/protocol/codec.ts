/**
 * The one MessagePack codec of the project. Encoding uses plain maps and
 * arrays only (no msgpackr records), so any MessagePack library can read it.
 * Decoding of untrusted bytes always walks the frame first (see
 * {@link scanMsgpack}) and decodes maps as plain objects.
 */
import { Packr, Unpackr } from 'msgpackr'
import { scanMsgpack } from './msgpack-scan.js'

// undefined as nil: msgpackr's default writes an extension type, which every receiver refuses.
const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' })

/** Encodes a header or a body as standard MessagePack. */
export function encode(value: unknown): Buffer {
  return packr.pack(value)
}

export type Decoded = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string }

/**
 * Decodes bytes from the network. Never throws: a frame that is too large,
 * not exactly one MessagePack value, uses extension types or nests deeper than
 * `maxDepth` comes back as `{ ok: false, reason }`.
 */
export function decodeUntrusted(frame: Uint8Array, maxBytes: number, maxDepth: number): Decoded {
  if (frame.length > maxBytes) return { ok: false, reason: `frame of ${frame.length} bytes exceeds ${maxBytes}` }
  const failure = scanMsgpack(frame, maxDepth)
  if (failure !== undefined) return { ok: false, reason: failure }
  try {
    return { ok: true, value: unpackr.unpack(frame) as unknown }
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : 'undecodable' }
  }
}

/**
 * Decodes bytes this process produced or already validated with a scanner
 * (for example a task body checked by the gateway). Throws on bad input.
 */
export function decodeTrusted(frame: Uint8Array): unknown {
  return unpackr.unpack(frame) as unknown
}
