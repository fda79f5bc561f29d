/**
 * What a `Client` tells its user: the events it emits and the live
 * counters a progress display polls. Types only.
 */
import type { BadLine } from '../data/bad-lines.js'
import type { CommandRecord } from './records.js'

/**
 * Events of a `Client`. None fires inside the synchronous part of
 * `run()`: a listener attached right after calling it, in the same turn,
 * misses nothing.
 */
export interface ClientEvents {
  /** A line of the commands file (an item of an iterable source) was skipped. */
  'bad-line': [bad: BadLine]
  /**
   * Every command of a finished batch (answered or lost), in batch order.
   * Details are kept only when a listener is attached by the time `run()`
   * starts (before it, or in the same turn).
   */
  records: [records: CommandRecord[]]
  /** A batch was resent, with its new attempt number. */
  resend: [batch: { id: string; attempt: number; why: 'timeout' | 'rejected' }]
}

/** Live counters, for a progress display (run-client's is `formatProgress` over a `ProgressMeter`). */
export interface ClientProgress {
  /** Commands read so far. */
  readonly read: number
  /** The input is fully read, so `read` is the run's total (the input is streamed: until then it is not known). */
  readonly inputDone: boolean
  /** Commands with an outcome (answered or lost). */
  readonly finished: number
  /** Commands answered, with any code: `finished` but the lost. A rate counts these. */
  readonly answered: number
  /** Batches sent and not yet settled. */
  readonly inFlight: number
  /** No gateway takes batches right now: where the client sends, and since when (`performance.now()` time). */
  readonly waiting?: { readonly endpoint: string; readonly sinceMs: number }
}
