/**
 * What a worker holds: the batches it took and has not yet delivered or
 * given up, each with when it was taken (for its `done`'s `ms`), and the
 * stats they add to as they are taken and settle. Pure: the clock is
 * injected, so tests run it on fake time; the worker passes the monotonic one.
 */
import type { DoneReport } from '../protocol/frames.js'
import { addOutcomeCounts, addStateCounts } from '../protocol/outcome-totals.js'
import type { CommandOutcome } from '../protocol/types.js'
import type { Clock } from '../util/clock.js'
import type { WorkerStats } from './events.js'
import { tallyOutcomes } from './outcome-tally.js'

/** What the holdings need of a batch. */
export interface TakenBatch {
  readonly commands: number
  readonly outcomes: readonly CommandOutcome[]
}

/** The stats the holdings keep. */
export type HoldingStats = Pick<WorkerStats, 'batches' | 'commands' | 'outcomes' | 'states'>

export class Holdings<B extends TakenBatch> {
  /** Batches taken and not yet released, with when each was taken. */
  private readonly takenAt = new Map<B, number>()
  private idleWaiters: (() => void)[] = []

  constructor(
    private readonly stats: HoldingStats,
    private readonly clock: Clock,
  ) {}

  /** Batches held now. */
  get size(): number {
    return this.takenAt.size
  }

  /** Holds `batch` from now on and counts it (and its commands) as taken. */
  take(batch: B): void {
    this.takenAt.set(batch, this.clock())
    this.stats.batches++
    this.stats.commands += batch.commands
  }

  /** Its every command has its outcome: counts them, and returns its `done`'s report. It is held until {@link release}. */
  settle(batch: B): DoneReport {
    const now = this.clock()
    // Microseconds are plenty, and keep the float short on the wire.
    const ms = Math.round((now - (this.takenAt.get(batch) ?? now)) * 1000) / 1000
    const tally = tallyOutcomes(batch.outcomes)
    addOutcomeCounts(this.stats.outcomes, tally.counts)
    if (tally.states !== undefined) addStateCounts(this.stats.states, tally.states)
    // Written out, not spread: `{ ...tally, ms }` was the worker's hottest line per batch (CloneObjectIC).
    return tally.states === undefined ? { counts: tally.counts, ms } : { counts: tally.counts, ms, states: tally.states }
  }

  /** Its result was delivered or given up: no longer held. */
  release(batch: B): void {
    this.takenAt.delete(batch)
  }

  /**
   * Resolves once nothing is held (at once if nothing is): on the
   * {@link wakeIfIdle} after the last release, or on {@link wakeAll}.
   */
  idle(): Promise<void> {
    if (this.takenAt.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Resolves the {@link idle} waiters if nothing is held; the worker calls it once a release has been announced. */
  wakeIfIdle(): void {
    if (this.takenAt.size === 0) this.wakeAll()
  }

  /** Resolves every {@link idle} waiter, held or not: a forced close waits for no delivery. */
  wakeAll(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }
}
