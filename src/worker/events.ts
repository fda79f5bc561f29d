/**
 * What a worker tells the world: its events and its counters. `Worker`
 * raises the events, its parts keep the counters; `Worker` re-exports both types.
 */
import { zeroCommandCounts, zeroStateTotals, type CommandCounts, type StateTotals } from '../protocol/outcome-totals.js'

/** Events of a {@link Worker}. */
export interface WorkerEvents {
  /** `ready` was handed to ZeroMQ for the gateway (again after every reconnect); never inside `start()`. */
  ready: []
  /** A batch finished; `delivered` is false when its client did not accept the result. */
  'batch:done': [batch: { id: string; client: string; commands: number; delivered: boolean }]
  /** The gateway was silent for `heartbeatLiveness` intervals; the worker reconnects. */
  'gateway:lost': []
  /** Stopping began (poison pill, `stop()` or `close()`). */
  closing: []
  /** Everything is closed. */
  closed: []
}

/** Counters of a worker, for monitoring and tests. */
export interface WorkerStats {
  /** Batches taken (a malformed body is counted in `malformed`). */
  batches: number
  /** Commands of the batches taken. */
  commands: number
  /** Commands of the batches finished, by outcome (as their `done` reports them). */
  outcomes: CommandCounts
  /** Check results (code 0 with a `state`) of the batches finished, by state. */
  states: StateTotals
  resultsDropped: number
  malformed: number
  reconnects: number
}

/** The stats of a worker that has done nothing yet. */
export function zeroWorkerStats(): WorkerStats {
  return {
    batches: 0,
    commands: 0,
    outcomes: zeroCommandCounts(),
    states: zeroStateTotals(),
    resultsDropped: 0,
    malformed: 0,
    reconnects: 0,
  }
}
