/**
 * The client's tally, a pure core: every batch settles here exactly once,
 * answered or lost, and each of its commands lands in exactly one count.
 * Later copies of a settled batch (a result after a resend, a result after
 * the batch was given up) are counted as duplicates and change nothing.
 */
import { ResultCode } from '../protocol/types.js'
import { BitSet } from '../util/bitset.js'
import { STATES, checkStateOf, type StateCounts } from './outcomes.js'
import type { ReceivedOutcome } from './results.js'

export type { StateCounts }

/** Counts of command outcomes. */
export interface OutcomeCounts {
  ok: number
  unknown: number
  /** Code 2, and any code this client does not know (CGP/1 says so). */
  failed: number
  timeout: number
  /** Code 4: cancelled by this client's `abort`. */
  cancelled: number
  lost: number
}

/**
 * A sum as people expect to read it: the float noise of adding decimal
 * fractions in binary (0.1 + 0.2 = 0.30000000000000004) rounded away at 15
 * significant digits, which a double always holds exactly. Integers are kept
 * as they are, since above 10^15 rounding would change them.
 *
 * @example
 * withoutFloatNoise(15.824000000000002) // 15.824
 */
export function withoutFloatNoise(n: number): number {
  return Number.isInteger(n) || !Number.isFinite(n) ? n : Number(n.toPrecision(15))
}

/** Why batches were lost. */
export interface LostBreakdown {
  /** Never handed to a gateway, or a resend that never left: the send retries ran out. */
  unsent: number
  /** Rejected by a gateway, by reason. */
  rejected: Record<string, number>
  /** Sent, but no result came within the result timeout and all resends. */
  noResult: number
  /** Not finished when the run was interrupted: waiting for a result, or not sent yet. */
  interrupted: number
}

/** Why one batch was lost. */
export type Loss =
  | { readonly cause: 'unsent' | 'noResult' | 'interrupted' }
  | { readonly cause: 'rejected'; readonly reason: string }

/** The loss as a command record names it: `no result`, `unsent`, `interrupted`, `rejected too-large`. */
export function describeLoss(loss: Loss): string {
  switch (loss.cause) {
    case 'noResult':
      return 'no result'
    case 'rejected':
      return `rejected ${loss.reason}`
    default:
      return loss.cause
  }
}

/**
 * Tallies outcomes by batch sequence number.
 *
 * @example
 * const tally = new ResultTally()
 * tally.recordOutcomes(1, [[0, 1], [1, null]])   // true: counted
 * tally.recordOutcomes(1, [[0, 1], [1, null]])   // false: a duplicate, dropped
 * tally.recordLost(2, 16, { cause: 'noResult' }) // 16 commands lost
 * tally.settled                                  // 18
 * tally.recordOutcomes(3, [[0, { state: 1, output: 'load 9', ms: 12 }]])
 * tally.states.warning                           // 1
 */
export class ResultTally {
  readonly counts: OutcomeCounts = { ok: 0, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 }
  /** The states of the code-0 values that are check values (see checks.md); the rest count in none. */
  readonly states: StateCounts = { ok: 0, warning: 0, critical: 0, unknown: 0 }
  /** Lost batches by cause (batches, not commands: `counts.lost` has the commands). */
  readonly lostBatches: LostBreakdown = { unsent: 0, rejected: {}, noResult: 0, interrupted: 0 }
  /** Results (or losses) that arrived for a batch already settled, dropped. */
  duplicates = 0
  private settledCommands = 0
  /** 125 KB per million batches; a Set of numbers would take ~40 MB. */
  private readonly finished = new BitSet()

  /** A compensated (Neumaier) sum: a million small fractions add up without drifting from their true sum. */
  private sum = 0
  private compensation = 0

  /** Sum of the numeric values of code 0, as the original printed it, without float noise ({@link withoutFloatNoise}). */
  get total(): number {
    return withoutFloatNoise(Number.isFinite(this.sum) ? this.sum + this.compensation : this.sum)
  }

  /** Commands counted so far, in any count: the sum of `counts`. */
  get settled(): number {
    return this.settledCommands
  }

  /** Commands that came back with an outcome (any code): {@link settled} but the lost. What a rate counts. */
  get answered(): number {
    return this.settledCommands - this.counts.lost
  }

  isFinished(seq: number): boolean {
    return this.finished.has(seq)
  }

  /** Counts a batch's outcomes once; returns false (and counts a duplicate) if it was already settled. */
  recordOutcomes(seq: number, outcomes: readonly ReceivedOutcome[]): boolean {
    if (!this.markFinished(seq)) return false
    for (const [code, value] of outcomes) {
      switch (code) {
        case ResultCode.Ok: {
          this.counts.ok++
          if (typeof value === 'number') {
            if (Number.isFinite(value)) this.add(value)
            break
          }
          const state = checkStateOf(value)
          if (state !== undefined) this.states[STATES[state]]++
          break
        }
        case ResultCode.Unknown:
          this.counts.unknown++
          break
        case ResultCode.Failed:
          this.counts.failed++
          break
        case ResultCode.Timeout:
          this.counts.timeout++
          break
        case ResultCode.Cancelled:
          this.counts.cancelled++
          break
        default:
          // A code this client does not know: CGP/1 says count it as failed.
          this.counts.failed++
      }
    }
    this.settledCommands += outcomes.length
    return true
  }

  /** Counts a batch's `commands` as lost, and the batch under its cause; returns false (a duplicate) if it was already settled. */
  recordLost(seq: number, commands: number, loss: Loss): boolean {
    if (!this.markFinished(seq)) return false
    this.counts.lost += commands
    this.settledCommands += commands
    const lost = this.lostBatches
    if (loss.cause === 'rejected') lost.rejected[loss.reason] = (lost.rejected[loss.reason] ?? 0) + 1
    else lost[loss.cause]++
    return true
  }

  /**
   * A result for a batch that is not in flight: a duplicate if that batch
   * has settled (counted), otherwise not ours to count (never sent yet).
   */
  recordStray(seq: number): void {
    if (this.finished.has(seq)) this.duplicates++
  }

  private add(value: number): void {
    const sum = this.sum + value
    this.compensation += Math.abs(this.sum) >= Math.abs(value) ? this.sum - sum + value : value - sum + this.sum
    this.sum = sum
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
