/** Options of a {@link Worker} and their defaults. */
import { Limits } from '../protocol/limits.js'
import type { ReplySocketsOptions } from '../transport/reply-sockets.js'
import type { Logger } from '../log.js'
import { assertConnectable } from '../transport/endpoint.js'
import { checkInteger, withDefaults } from '../util/options.js'
import type { Executor } from '../executors/types.js'

export interface WorkerOptions {
  /** Endpoint of the gateway's worker port (its ROUTER). */
  readonly gateway: string
  /** Runs one command; see {@link Executor}. */
  readonly executor: Executor
  /**
   * This worker's id, as `ready` announces it: 1-128 bytes, unique per gateway (a second
   * connection claiming a live worker's id is refused).
   * @default `${hostname}-${pid}-${random}`
   */
  readonly id?: string
  /**
   * Batches held at once (announced in `ready`). Minimum 1.
   * @default 64
   */
  readonly capacity?: number
  /**
   * Commands in flight at once across all held batches. Minimum 1.
   * @default 1024
   */
  readonly concurrency?: number
  /**
   * A command still running after this many milliseconds is cancelled through
   * its AbortSignal and reported as code 3 (timeout). 0 means no limit.
   * @default 0
   */
  readonly commandTimeoutMs?: number
  /**
   * Heartbeat interval in milliseconds (protocol default 1000).
   * @default 1000
   */
  readonly heartbeatIntervalMs?: number
  /**
   * Intervals of silence after which the gateway counts as lost and the worker reconnects.
   * @default 3
   */
  readonly heartbeatLiveness?: number
  /**
   * Longest pause between reconnects to a lost gateway, in milliseconds; pauses double from one interval.
   * @default 32000
   */
  readonly reconnectMaxMs?: number
  /**
   * Most commands accepted in one batch.
   * @default 10000
   */
  readonly maxBatch?: number
  /**
   * Largest message accepted from the gateway, in bytes.
   * @default 16 MiB
   */
  readonly maxMessageBytes?: number
  /** Options of the reply-socket cache (sockets to clients). */
  readonly reply?: ReplySocketsOptions
  /** Where to log. @default silent */
  readonly logger?: Logger
}

export const workerDefaults = {
  capacity: 64,
  concurrency: 1024,
  commandTimeoutMs: 0,
  heartbeatIntervalMs: 1000,
  heartbeatLiveness: 3,
  reconnectMaxMs: 32_000,
  maxBatch: Limits.defaultMaxBatch,
  maxMessageBytes: Limits.defaultMaxMessageBytes,
}

/** Worker options with every default filled in and every value checked. */
export type ResolvedWorkerOptions = typeof workerDefaults & WorkerOptions

/** Merges the defaults and checks every value; throws a ConfigError naming the option. */
export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  const o = withDefaults(workerDefaults, options)
  assertConnectable(o.gateway, 'gateway endpoint')
  checkInteger('capacity', o.capacity, 1, Limits.maxCounter)
  checkInteger('concurrency', o.concurrency, 1)
  checkInteger('commandTimeoutMs', o.commandTimeoutMs, 0)
  checkInteger('heartbeatIntervalMs', o.heartbeatIntervalMs, 10)
  checkInteger('heartbeatLiveness', o.heartbeatLiveness, 1)
  checkInteger('maxBatch', o.maxBatch, 1)
  return o
}
