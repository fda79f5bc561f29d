/**
 * The client's tally, a pure core: every batch settles here exactly once,
 * answered or lost, and each of its commands lands in exactly one count.
 * Later copies of a settled batch (a result after a resend, a result after
 * the batch was given up) are counted as duplicates and change nothing.
 */
import { ResultCode, type CommandOutcome } from '../protocol/types.js'
import { BitSet } from '../util/bitset.js'

/** Counts of command outcomes. */
export interface OutcomeCounts {
  ok: number
  unknown: number
  failed: number
  timeout: number
  cancelled: number
  lost: number
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
 */
export class ResultTally {
  readonly counts: OutcomeCounts = { ok: 0, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 }
  /** Lost batches by cause (batches, not commands: `counts.lost` has the commands). */
  readonly lostBatches: LostBreakdown = { unsent: 0, rejected: {}, noResult: 0, interrupted: 0 }
  /** Sum of the numeric values of code 0, as the original printed it. */
  total = 0
  /** Results (or losses) that arrived for a batch already settled, dropped. */
  duplicates = 0
  private settledCommands = 0
  /** 125 KB per million batches; a Set of numbers would take ~40 MB. */
  private readonly finished = new BitSet()

  /** Commands counted so far, in any count: the sum of `counts`. */
  get settled(): number {
    return this.settledCommands
  }

  isFinished(seq: number): boolean {
    return this.finished.has(seq)
  }

  /** Counts a batch's outcomes once; returns false (and counts a duplicate) if it was already settled. */
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
        case ResultCode.Cancelled:
          this.counts.cancelled++
          break
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

  private markFinished(seq: number): boolean {
    if (this.finished.has(seq)) {
      this.duplicates++
      return false
    }
    this.finished.add(seq)
    return true
  }
}
