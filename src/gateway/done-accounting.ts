/**
 * What a completed batch's `done` adds to the gateway's counters, pure.
 * Its `counts` and `states` are checked against the batch: `counts` must add
 * up to its commands and `states` to at most its ok ones, or they are
 * ignored (and logged), so a worker can never make a counter grow by more
 * than what was taken in. The duration is the worker's `ms`, capped at what
 * the gateway saw from dispatch to `done`, which the worker's run fits inside.
 */
import { addOutcomeCounts, addStateCounts } from '../protocol/outcome-totals.js'
import type { DoneHeader, OutcomeCounts, StateCounts } from '../protocol/types.js'
import type { GatewayStats } from './events.js'
import type { QueuedBatch } from './ledger.js'
import type { LineLog } from './ports.js'

export interface CompletedBatch {
  /** The worker that sent `done`, for the log. */
  readonly worker: string
  readonly batch: QueuedBatch
  readonly done: DoneHeader
  /** Dispatch to `done`, as the gateway saw it, in milliseconds. */
  readonly seenMs: number
}

/** Adds the batch's counts and states to `stats`; returns the batch's duration in milliseconds. */
export function accountDone(stats: GatewayStats, completed: CompletedBatch, log: LineLog): number {
  const { batch, done, seenMs } = completed
  // Without counts, states can be checked against the batch's size only.
  const okCommands = done.counts === undefined ? batch.commands : addCounts(stats, completed, done.counts, log)
  if (done.states !== undefined && okCommands !== undefined) addStates(stats, completed, done.states, okCommands, log)
  return done.ms === undefined ? seenMs : Math.min(done.ms, seenMs)
}

/** Adds `counts` when they add up to the batch's commands; returns its ok ones, or undefined when ignored. */
function addCounts(stats: GatewayStats, { worker, batch }: CompletedBatch, counts: OutcomeCounts, log: LineLog): number | undefined {
  const [ok, unknown, failed, timeout, cancelled] = counts
  if (ok + unknown + failed + timeout + cancelled !== batch.commands) {
    const { id, client, commands } = batch
    log.warn({ worker, id, client, counts, commands }, "done counts do not add up to the batch's commands; ignored")
    return undefined
  }
  addOutcomeCounts(stats.commands, counts)
  return ok
}

function addStates(stats: GatewayStats, { worker, batch }: CompletedBatch, states: StateCounts, okCommands: number, log: LineLog): void {
  const [ok, warning, critical, unknown] = states
  if (ok + warning + critical + unknown > okCommands) {
    const { id, client } = batch
    log.warn({ worker, id, client, states, okCommands }, "done states outnumber the batch's ok commands; ignored")
    return
  }
  addStateCounts(stats.states, states)
}
