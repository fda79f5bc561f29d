/**
 * Validation of a result body: decoded with the untrusted-bytes limits and
 * checked against the batch it answers before anything is counted (the tally
 * is in tally.ts).
 *
 * What is refused, and why: a body that is not an array of exactly one
 * `[code, value]` pair per command, a code that is not a non-negative integer,
 * or one of CGP/1's codes with the wrong kind of value (nil for 1, 3 and 4, a
 * string for 2). Such a body says its sender is broken, so none of it is
 * counted: the batch stays in flight and a resend can still get a good answer.
 * A non-negative integer code this client does not know (5 and up) is not a
 * broken body but a later protocol's code; CGP/1 says a client MUST count it
 * as failed, so it is kept (with whatever value came with it) and counted so.
 */
import { decodeUntrusted } from '../protocol/codec.js'
import { Limits } from '../protocol/limits.js'
import { ResultCode, type CommandOutcome } from '../protocol/types.js'

/**
 * One entry of a result body as a client accepts it: one of CGP/1's outcomes,
 * or `[code, value]` with a code above the known ones (counted as failed).
 */
export type ReceivedOutcome = CommandOutcome | readonly [code: number, value: unknown]

/** The highest code CGP/1 defines; anything above it is a code this client does not know. */
const HIGHEST_KNOWN = ResultCode.Cancelled

function usable(code: unknown, payload: unknown): boolean {
  if (typeof code !== 'number' || !Number.isSafeInteger(code) || code < 0) return false
  switch (code) {
    case ResultCode.Ok:
      return true
    case ResultCode.Failed:
      return typeof payload === 'string'
    case ResultCode.Unknown:
    case ResultCode.Timeout:
    case ResultCode.Cancelled:
      return payload === null
    default:
      return code > HIGHEST_KNOWN
  }
}

/**
 * Decodes and checks a result body against the number of commands its batch
 * had. Returns the outcomes or why they are unusable.
 */
export function parseOutcomes(body: Buffer | undefined, expected: number, maxBytes: number): ReceivedOutcome[] | string {
  if (body === undefined) return 'result has no body frame'
  const decoded = decodeUntrusted(body, maxBytes, Limits.bodyDepth)
  if (!decoded.ok) return `result body: ${decoded.reason}`
  const value = decoded.value
  if (!Array.isArray(value)) return 'result body is not an array'
  if (value.length !== expected) return `result has ${value.length} outcomes for ${expected} commands`
  for (let i = 0; i < value.length; i++) {
    const entry: unknown = value[i]
    if (!Array.isArray(entry) || entry.length !== 2) return `outcome ${i} is not a [code, value] pair`
    const [code, payload] = entry as [unknown, unknown]
    if (!usable(code, payload)) return `outcome ${i} has an invalid code or value`
  }
  return value as ReceivedOutcome[]
}
