/**
 * Validation of what arrives on the client's results socket, and the tally
 * of outcomes. Results are matched to batches by id, checked against the
 * batch they answer, and counted once: later copies are dropped.
 */
import { decodeUntrusted } from '../protocol/codec.js'
import { Limits } from '../protocol/limits.js'
import { ResultCode, type CommandOutcome } from '../protocol/types.js'
import { BitSet } from '../util/bitset.js'

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
      ((code === ResultCode.Unknown || code === ResultCode.Timeout) && payload === null) ||
      (code === ResultCode.Failed && typeof payload === 'string')
    if (!valid) return `outcome ${i} has an invalid code or value`
  }
  return value as CommandOutcome[]
}

/** Counts of command outcomes. */
export interface OutcomeCounts {
  ok: number
  unknown: number
  failed: number
  timeout: number
  lost: number
}

/** Tallies outcomes and remembers which batches are finished. */
export class ResultTally {
  readonly counts: OutcomeCounts = { ok: 0, unknown: 0, failed: 0, timeout: 0, lost: 0 }
  /** Sum of the numeric values of code 0, as the original printed it. */
  total = 0
  /** Results that arrived for a batch already finished, dropped. */
  duplicates = 0
  private readonly finished = new BitSet()

  isFinished(seq: number): boolean {
    return this.finished.has(seq)
  }

  /** Counts a batch's outcomes once; returns false (and counts a duplicate) if it was already finished. */
  recordOutcomes(seq: number, outcomes: readonly CommandOutcome[]): boolean {
    if (!this.markFinished(seq)) return false
    for (const [code, value] of outcomes) {
      switch (code) {
        case ResultCode.Ok:
          this.counts.ok++
          if (typeof value === 'number' && Number.isFinite(value)) this.total += value
          break
        case ResultCode.Unknown:
          this.counts.unknown++
          break
        case ResultCode.Failed:
          this.counts.failed++
          break
        case ResultCode.Timeout:
          this.counts.timeout++
          break
      }
    }
    return true
  }

  /** Counts a batch's commands as lost; returns false if it was already finished. */
  recordLost(seq: number, commands: number): boolean {
    if (!this.markFinished(seq)) return false
    this.counts.lost += commands
    return true
  }

  private markFinished(seq: number): boolean {
    if (this.finished.has(seq)) {
      this.duplicates++
      return false
    }
    this.finished.add(seq)
    return true
  }
}
