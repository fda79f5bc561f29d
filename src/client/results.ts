/**
 * Validation of a result body: decoded with the untrusted-bytes limits and
 * checked against the batch it answers before anything is counted (the tally
 * is in tally.ts).
 */
import { decodeUntrusted } from '../protocol/codec.js'
import { Limits } from '../protocol/limits.js'
import { ResultCode, type CommandOutcome } from '../protocol/types.js'

/**
 * Decodes and checks a result body against the number of commands its batch
 * had. Returns the outcomes or why they are unusable.
 */
export function parseOutcomes(body: Buffer | undefined, expected: number, maxBytes: number): CommandOutcome[] | string {
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
    const valid =
      code === ResultCode.Ok ||
      ((code === ResultCode.Unknown || code === ResultCode.Timeout || code === ResultCode.Cancelled) && payload === null) ||
      (code === ResultCode.Failed && typeof payload === 'string')
    if (!valid) return `outcome ${i} has an invalid code or value`
  }
  return value as CommandOutcome[]
}
