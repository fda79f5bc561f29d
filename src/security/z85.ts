/**
 * Z85 (ZeroMQ RFC 32), the text form of CURVE keys: a 32-byte key is 40
 * characters. zeromq.js gives keys as Z85 strings but a ZAP request carries
 * the client's key as 32 raw bytes, so the ZAP handler encodes it here.
 */
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#'
const DECODE = new Map([...ALPHABET].map((char, i) => [char, i]))

/** A CURVE key in Z85: exactly 40 characters of the Z85 alphabet. One check, the wire's own. */
export { isCurveKey as isZ85Key } from '../protocol/curve-key.js'

/** `bytes` (a multiple of 4 long) in Z85. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError(`z85: ${bytes.length} bytes is not a multiple of 4`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let text = ''
  for (let i = 0; i < bytes.length; i += 4) {
    let value = view.getUint32(i)
    let chunk = ''
    for (let j = 0; j < 5; j++) {
      chunk = ALPHABET[value % 85]! + chunk
      value = Math.floor(value / 85)
    }
    text += chunk
  }
  return text
}

/** The bytes of a Z85 string (a multiple of 5 long); throws on a character outside the alphabet. */
export function z85Decode(text: string): Buffer {
  if (text.length % 5 !== 0) throw new RangeError(`z85: ${text.length} characters is not a multiple of 5`)
  const bytes = Buffer.alloc((text.length / 5) * 4)
  for (let i = 0; i < text.length; i += 5) {
    let value = 0
    for (let j = 0; j < 5; j++) {
      const digit = DECODE.get(text[i + j]!)
      if (digit === undefined) throw new RangeError(`z85: ${JSON.stringify(text[i + j])} is not a Z85 character`)
      value = value * 85 + digit
    }
    if (value > 0xffffffff) throw new RangeError('z85: a 5-character group exceeds 32 bits')
    bytes.writeUInt32BE(value, (i / 5) * 4)
  }
  return bytes
}
