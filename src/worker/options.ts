/**
 * Options of a {@link Worker} and their defaults. Names, kinds, ranges,
 * defaults and help live once in the schema (src/options/worker.ts); this
 * file keeps the documented interface.
 */
import type { ReplySocketsOptions } from '../transport/reply-sockets.js'
import type { Logger } from '../log.js'
import type { Executor } from '../executors/types.js'
import { applySchema, defaultsOf } from '../options/resolve.js'
import { workerSchema } from '../options/worker.js'
import type { HttpListen } from '../options/kinds.js'

export interface WorkerOptions {
  /** Endpoint of the gateway's worker port (its ROUTER). */
  readonly gateway: string
  /**
   * Serve `/metrics` (Prometheus) on this HTTP listener: `{ host, port }`, or
   * `'HOST:PORT'` / `'PORT'` (host 127.0.0.1). Port 0 picks a free one.
   * @default none
   */
  readonly http?: HttpListen | string | number
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
   * Intervals of silence after which the gateway counts as lost and the worker reconnects, 1 to 1000.
   * @default 3
   */
  readonly heartbeatLiveness?: number
  /**
   * Longest pause between reconnects to a lost gateway, in milliseconds (minimum 1); pauses double from one interval.
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
  /**
   * This worker's CURVE certificate, a `NAME.key_secret` file: the DEALER
   * connects to the gateway over CURVE, and results go to clients that ask
   * for CURVE (a task's `replyKey`) under this key. Needs {@link serverKey}.
   * Results to a `replyKey` are encrypted even without it, under a key pair
   * made for the process, which only clients that allow any key accept.
   * @default none: plaintext to the gateway
   */
  readonly curveSecret?: string
  /** The gateway's public certificate (`NAME.key`). Needs {@link curveSecret}. @default none */
  readonly serverKey?: string
  /** Options of the reply-socket cache (sockets to clients); its `curve` is set from {@link curveSecret}. */
  readonly reply?: ReplySocketsOptions
  /** Where to log. @default silent */
  readonly logger?: Logger
}

/** Defaults of the worker's options, from its schema. */
export const workerDefaults = defaultsOf(workerSchema)

/** Worker options with every default filled in and every value checked; `http` read into host and port. */
export type ResolvedWorkerOptions = typeof workerDefaults & Omit<WorkerOptions, 'http'> & { readonly http?: HttpListen }

/** Merges the defaults and checks every value; throws a ConfigError naming the option. */
export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  // applySchema read `http` with httpListen(), whatever form the caller gave.
  return applySchema(workerSchema, options) as ResolvedWorkerOptions
}
