/**
 * The shape of a CURVE public key on the wire (a task's `replyKey`): 40
 * characters of the Z85 alphabet (ZeroMQ RFC 32), that is 32 key bytes.
 * The protocol layer imports nothing above it, so the check lives here and
 * src/security/z85.ts re-exports it as `isZ85Key`.
 */
import { Limits } from './limits.js'

const Z85_KEY = new RegExp(`^[0-9a-zA-Z.\\-:+=^!/*?&<>()[\\]{}@%$#]{${Limits.replyKeyBytes}}$`)

/** Exactly 40 characters, every one of the Z85 alphabet. */
export function isCurveKey(value: unknown): value is string {
  return typeof value === 'string' && value.length === Limits.replyKeyBytes && Z85_KEY.test(value)
}
