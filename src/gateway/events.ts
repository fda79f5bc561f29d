/**
 * What a gateway tells the world: its events and its counters. The core
 * raises the events and keeps the counters; `Gateway` re-exports both types.
 */
import { zeroCommandCounts, zeroStateTotals, type CommandCounts, type StateTotals } from '../protocol/outcome-totals.js'
import type { RejectReason } from '../protocol/types.js'

export type WorkerLossReason = 'heartbeat' | 'exited' | 'unreachable' | 'hold-timeout'

/** Events of a {@link Gateway}. */
export interface GatewayEvents {
  /** Both sockets are bound. */
  listening: [endpoints: { endpoint: string; workersEndpoint: string }]
  /** A worker process was forked. */
  'worker:spawn': [worker: { id: string; pid: number }]
  /** A worker (forked or remote) said `ready`; `capacity` is what it may hold (its declared one, capped). */
  'worker:ready': [worker: { id: string; capacity: number }]
  /** A `ready` was refused: its worker id belongs to another live connection, or too many workers are connected. */
  'worker:refused': [worker: { id: string; reason: 'id-in-use' | 'too-many-workers' }]
  /** A worker was lost; what it held went back to the queue or was rejected. */
  'worker:lost': [worker: { id: string; reason: WorkerLossReason; requeued: number }]
  /** An idle forked worker beyond `minWorkers` was sent the poison pill. */
  'worker:retire': [worker: { id: string; idleMs: number }]
  /** A forked worker process exited. */
  'worker:exit': [worker: { id: string; pid: number; code: number | null; signal: string | null }]
  /** A batch was rejected; `not-allowed` ones (replyTo outside `replyAllow`) are only counted, never answered. */
  'batch:rejected': [batch: { id: string; client: string; reason: RejectReason }]
  /** A client's `abort` removed its queued batches (and later ones that arrive from it); the workers holding its others got a `cancel` (`stats.cancelsSent`). */
  abort: [abort: { client: string; dropped: number }]
  /** A message was malformed; it was counted and dropped (or answered `rejected`). */
  malformed: [message: { source: 'intake' | 'workers'; reason: string }]
  /** Shutdown began. */
  closing: []
  /** Everything is closed and every forked worker has exited. */
  closed: []
}

/** Raises one gateway event; the core's only way to reach listeners. */
export type Emit = <K extends keyof GatewayEvents>(event: K, ...args: GatewayEvents[K]) => void

export type { CommandCounts, StateTotals } from '../protocol/outcome-totals.js'

/**
 * Timings the core measures on its clock, once per batch, for whoever
 * keeps histograms (the metrics); the core itself keeps none.
 */
export interface GatewayObserver {
  /** A batch went to a worker after waiting this long since it was taken in (or requeued), in milliseconds. */
  queueWait(ms: number): void
  /** A batch completed: how long it ran, in milliseconds (the worker's `ms`, else dispatch to `done`). */
  batchDuration(ms: number): void
}

/** Counters of a gateway, for monitoring and tests. */
export interface GatewayStats {
  /** Messages the intake read: tasks, aborts and malformed ones. */
  received: number
  /** Tasks the intake read (valid headers), whatever became of them. */
  batchesReceived: number
  /** Commands of the batches taken in; a resend of a batch still inside is not counted again. */
  commandsReceived: number
  /** `abort` messages read. */
  aborts: number
  /** Messages dropped as malformed, from both sockets: `malformedFrom.intake + malformedFrom.workers`. */
  malformed: number
  malformedFrom: { intake: number; workers: number }
  duplicates: number
  /** Resends of a batch a worker still held, run again beside it on another worker. */
  speculative: number
  dispatched: number
  completed: number
  /**
   * Commands of the completed batches by outcome, from the workers' `done`
   * (`counts`); a batch whose worker sent none is in `completed` only.
   */
  commands: CommandCounts
  /** Check results of the completed batches by state, from the `done` extension `states`. */
  states: StateTotals
  requeued: number
  /** Batches dropped by their client's abort (queued ones, and those that come after it). */
  aborted: number
  /** `cancel` messages sent to workers on clients' aborts: one per worker holding a batch of that client. */
  cancelsSent: number
  rejected: Record<RejectReason, number>
  /** Rejections that could not be handed to their client's socket (gone, evicted, never there). */
  undelivered: number
  workersSpawned: number
  workersLost: number
  /** `ready` messages refused (an id in use by another connection, or too many workers). */
  workersRefused: number
  /**
   * Connections refused by CURVE, per port: a key not in the port's allow-list
   * (its ZAP handler said no), a plaintext peer, a wrong server key. A peer
   * that keeps reconnecting counts once per attempt. Always 0 without CURVE.
   */
  refused: { intake: number; workers: number; status: number }
}

/** Every counter at zero. */
export function zeroStats(): GatewayStats {
  return {
    received: 0,
    batchesReceived: 0,
    commandsReceived: 0,
    aborts: 0,
    malformed: 0,
    malformedFrom: { intake: 0, workers: 0 },
    duplicates: 0,
    speculative: 0,
    dispatched: 0,
    completed: 0,
    commands: zeroCommandCounts(),
    states: zeroStateTotals(),
    requeued: 0,
    aborted: 0,
    cancelsSent: 0,
    rejected: { malformed: 0, 'too-large': 0, 'queue-full': 0, 'shutting-down': 0, 'attempts-exhausted': 0, 'not-allowed': 0 },
    undelivered: 0,
    workersSpawned: 0,
    workersLost: 0,
    workersRefused: 0,
    refused: { intake: 0, workers: 0, status: 0 },
  }
}

/** A copy of every counter, nested ones included, for a status view that must not change under its reader. */
export function copyStats(stats: GatewayStats): GatewayStats {
  const { malformedFrom, commands, states, rejected, refused } = stats
  return { ...stats, malformedFrom: { ...malformedFrom }, commands: { ...commands }, states: { ...states }, rejected: { ...rejected }, refused: { ...refused } }
}
