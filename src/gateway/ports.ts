/**
 * The ports of the gateway's core: what the adapters hand it (decoded intake
 * messages) and what it asks of the world (effects, the worker pool, logs).
 * Types only, so the core stays free of sockets.
 */
import type { Logger } from '../log.js'
import type { RejectReason, TaskHeader } from '../protocol/types.js'
import type { Emit, GatewayObserver } from './events.js'
import type { QueuedBatch } from './ledger.js'
import type { WorkerSession } from './worker-session.js'

/** What the intake read, validated: a task, an abort, or something malformed (answered when it can be). */
export type IntakeMessage =
  | { readonly type: 'task'; readonly header: TaskHeader; readonly body: Buffer }
  | { readonly type: 'abort'; readonly client: string }
  | { readonly type: 'malformed'; readonly reason: string; readonly answer?: ReplyTarget }

/** Where a `rejected` goes: a batch's `replyTo`, over CURVE to its `replyKey` when it has one. */
export interface ReplyTarget {
  readonly replyTo: string
  readonly id: string
  readonly client: string
  /** The client's CURVE public key (Z85), as the task carried it. */
  readonly replyKey?: string
}

/** A message for a connected worker; the worker port encodes it. */
export type ToWorker =
  | { readonly type: 'task'; readonly batch: QueuedBatch }
  | { readonly type: 'cancel'; readonly client: string }
  | { readonly type: 'heartbeat' }
  | { readonly type: 'stop' }

/** A `rejected` for a client. */
export interface Rejection extends ReplyTarget {
  readonly reason: RejectReason
  readonly retryable: boolean
}

/** What the core does to the world. Sends are fire-and-forget; a failed one comes back as {@link GatewayCore.workerUnreachable}. */
export interface GatewayEffects {
  toWorker(worker: WorkerSession, message: ToWorker): void
  /** The poison pill to a connection with no session (a `ready` during shutdown, or from a retired worker). */
  stopPeer(identity: Buffer): void
  reject(rejection: Rejection): void
  readonly emit: Emit
  /** Timings per batch, for histograms; absent, nothing is measured. */
  readonly observe?: GatewayObserver
}

/** The forked-worker pool as the core uses it (a `WorkerPool` fits). */
export interface PoolPort {
  readonly size: number
  readonly starting: number
  /** Forks one worker; undefined while crash back-off is in force. */
  spawn(): unknown
  kill(id: string, signal: 'SIGKILL'): void
  markReady(id: string): void
  get(id: string): { readonly pid: number } | undefined
}

/** A log that may hold back a flood (a `RateLimitedLog` fits). */
export interface LineLog {
  warn(fields: Record<string, unknown>, message: string): void
  info(fields: Record<string, unknown>, message: string): void
}

export interface GatewayLogs {
  readonly logger: Logger
  readonly malformed: LineLog
  readonly worker: LineLog
  /** Workers refused, connections refused by CURVE, tasks whose replyTo is outside the policy. */
  readonly refused: LineLog
  readonly abort: LineLog
}
