/**
 * Options of a {@link Gateway} and their defaults. Names, kinds, ranges,
 * defaults and help live once in the schema (src/options/gateway.ts); this
 * file keeps the documented interface and the checks that span options.
 */
import type { ReplySocketsOptions } from '../transport/reply-sockets.js'
import type { Logger } from '../log.js'
import { ConfigError, errorMessage } from '../errors.js'
import { createReplyPolicy } from '../security/reply-policy.js'
import { checksSpec, deviceMapSpec } from '../executors/spec.js'
import type { ExecutorSpec } from '../executors/types.js'
import { gatewaySchema } from '../options/gateway.js'
import type { HttpListen } from '../options/kinds.js'
import { applySchema, defaultsOf } from '../options/resolve.js'

export interface GatewayOptions {
  /**
   * Endpoint of the intake (PULL) that clients send batches to.
   * `tcp://127.0.0.1:*` picks a free port; read it from {@link Gateway.endpoint}.
   * @default 'tcp://127.0.0.1:5557'
   */
  readonly bind?: string
  /**
   * Endpoint of the worker port (ROUTER). Forked workers connect to it; bind
   * a tcp:// endpoint to let remote workers join too.
   * @default a fresh ipc:// path in the temporary directory
   */
  readonly workersBind?: string
  /**
   * Endpoint of a REP socket that answers status requests (`gateway-status`).
   * @default none
   */
  readonly statusBind?: string
  /**
   * Serve `/metrics` (Prometheus), `/status.json` and the dashboard at `/` on
   * this HTTP listener: `{ host, port }`, or `'HOST:PORT'` / `'PORT'` (host
   * 127.0.0.1). Port 0 picks a free one; read it from {@link Gateway.httpUrl}.
   * @default none
   */
  readonly http?: HttpListen | string | number
  /**
   * The executor module every forked worker imports (see {@link ExecutorSpec}).
   * This or `mapFile` is required when `maxWorkers` > 0; with 0 the gateway runs nothing.
   */
  readonly executor?: ExecutorSpec
  /** Shorthand for `executor: { module: 'device-map', options: { file: mapFile } }`. */
  readonly mapFile?: string
  /**
   * A checks file (docs/CHECKS.md): shorthand for `executor: { module: 'checks',
   * options: { file: checksFile } }`, with `map: mapFile` in those options when
   * `mapFile` is given too (its exact pairs answer first).
   */
  readonly checksFile?: string
  /**
   * Most forked workers. 0 forks none (remote workers only).
   * @default the number of CPUs
   */
  readonly maxWorkers?: number
  /**
   * Forked workers started at once and always kept (replaced when they die). At most
   * `maxWorkers`. The pool grows beyond it under load and shrinks back to it when idle.
   * @default 1
   */
  readonly minWorkers?: number
  /**
   * A forked worker beyond `minWorkers` that has held nothing for this long is
   * sent the poison pill, in milliseconds; 0 keeps every worker until shutdown.
   * @default 60000
   */
  readonly idleTimeoutMs?: number
  /**
   * Batches each forked worker holds at once.
   * @default 64
   */
  readonly capacity?: number
  /**
   * Commands in flight per forked worker.
   * @default 1024
   */
  readonly concurrency?: number
  /**
   * Per-command time limit in forked workers, in milliseconds; 0 for none.
   * @default 0
   */
  readonly commandTimeoutMs?: number
  /**
   * Batches queued before the intake pauses (back-pressure to clients).
   * @default 1000
   */
  readonly queueLimit?: number
  /**
   * Body bytes queued before the intake pauses, whatever the batch count.
   * @default 256 MiB
   */
  readonly queueBytes?: number
  /**
   * Most workers connected at once; a `ready` beyond it is logged and ignored.
   * @default 4096
   */
  readonly maxConnectedWorkers?: number
  /**
   * Most batches one worker may hold at once, whatever its `ready` declares: a
   * worker's share of the work is at most this, so a rogue that declares 1 000 000
   * cannot take every batch.
   * @default 64
   */
  readonly maxWorkerCapacity?: number
  /**
   * A batch held by one worker longer than this is taken back and run elsewhere,
   * and the worker is dropped (SIGKILLed, if forked), in milliseconds; 0 for no limit.
   * @default 600000 (10 min)
   */
  readonly holdTimeoutMs?: number
  /**
   * Messages ZeroMQ buffers per client connection on the intake before that client
   * blocks (ZMQ_RCVHWM). The byte bound `queueBytes` covers what the gateway has
   * read; this bounds what ZeroMQ holds unread (up to this many × the message size).
   * @default 32
   */
  readonly intakeHighWaterMark?: number
  /**
   * Most commands in one batch; larger batches are rejected `too-large`.
   * @default 10000
   */
  readonly maxBatch?: number
  /**
   * Runs a batch may take (first run plus re-runs after worker deaths) before it is
   * rejected `attempts-exhausted`.
   * @default 3
   */
  readonly maxAttempts?: number
  /**
   * Time workers get after the poison pill before they are SIGKILLed, in milliseconds.
   * @default 10000
   */
  readonly graceMs?: number
  /**
   * Heartbeat interval in milliseconds.
   * @default 1000
   */
  readonly heartbeatIntervalMs?: number
  /**
   * Silent intervals after which a worker is dead, 1 to 1000 (`--heartbeat-liveness`).
   * @default 3
   */
  readonly heartbeatLiveness?: number
  /**
   * Largest message accepted on any socket, in bytes; larger ones are refused by ZeroMQ.
   * @default 16 MiB
   */
  readonly maxMessageBytes?: number
  /**
   * The gateway's CURVE certificate, a `NAME.key_secret` file (gateway-keygen
   * or pyzmq's `zmq.auth.create_certificates` write them). It turns CURVE on:
   * the intake, the worker port (ipc:// and tcp://) and the status port become
   * CURVE servers on this key, each checking connecting keys against its
   * allow-list, and `rejected` answers go over CURVE to a task's `replyKey`.
   * Forked workers get this path (never the key) and present the same key pair.
   * Requires `clientsAllow`; `statusBind` then requires `adminsAllow`, and
   * `workersBind` requires `workersAllow`.
   * @default none: plaintext
   */
  readonly curveSecret?: string
  /**
   * Directory of public certificates (`*.key`) whose keys may submit to the
   * intake. Re-read by {@link Gateway.reloadAllowLists} (run-server: SIGHUP).
   * An empty directory admits no client. Requires `curveSecret`.
   * @default none
   */
  readonly clientsAllow?: string
  /**
   * Directory of public certificates whose keys may join the worker port. The
   * gateway's own key is always allowed (its forked workers present it).
   * Requires `curveSecret`.
   * @default only the gateway's own key
   */
  readonly workersAllow?: string
  /**
   * Directory of public certificates whose keys may ask the status port.
   * Requires `curveSecret`.
   * @default none
   */
  readonly adminsAllow?: string
  /**
   * The replyTo policy: CIDR blocks (`10.0.0.0/8`), single addresses, host-name
   * globs (`*.dc1.example`) and the word `ipc` (every ipc:// endpoint). A task
   * whose `replyTo` is outside is never dispatched, never connected to and
   * never answered: it counts as `rejected['not-allowed']`. Host names are
   * matched as written, never resolved.
   * @default every replyTo (a warning is logged at start when CURVE is on)
   */
  readonly replyAllow?: readonly string[]
  /** Options of the socket cache used to send `rejected` to clients. */
  readonly reply?: ReplySocketsOptions
  /** Where to log. @default silent */
  readonly logger?: Logger
  /**
   * Log level of forked workers (they log JSON to the same stderr).
   * @default the logger's level
   */
  readonly workerLogLevel?: string
}

/** Defaults of the gateway's options, from its schema. */
export const gatewayDefaults = defaultsOf(gatewaySchema)

/** Gateway options with every default filled in and every value checked. */
export type ResolvedGatewayOptions = typeof gatewayDefaults & Omit<GatewayOptions, 'mapFile' | 'checksFile' | 'http'> & { readonly minWorkers: number; readonly http?: HttpListen }

/** Merges the defaults and checks every value; throws {@link ConfigError} naming the option. */
export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  // The default floor of one worker bows to an explicit ceiling (maxWorkers 0 = remote workers only).
  const maxWorkers = options.maxWorkers ?? gatewayDefaults.maxWorkers
  const floor = options.minWorkers ?? (Number.isInteger(maxWorkers) ? Math.max(0, Math.min(gatewayDefaults.minWorkers, maxWorkers)) : undefined)
  const o = applySchema(gatewaySchema, { ...options, minWorkers: floor })
  if (o.minWorkers > o.maxWorkers) {
    throw new ConfigError('ERR_INVALID_OPTION', `minWorkers ${o.minWorkers} is above maxWorkers ${o.maxWorkers} (--min-workers, --max-workers): the pool never forks more than maxWorkers`)
  }
  if (o.capacity > o.maxWorkerCapacity) {
    throw new ConfigError(
      'ERR_INVALID_OPTION',
      `capacity ${o.capacity} is above maxWorkerCapacity ${o.maxWorkerCapacity}: forked workers could use only ${o.maxWorkerCapacity}; raise maxWorkerCapacity (--max-worker-capacity) too`,
    )
  }
  if (o.executor !== undefined && o.mapFile !== undefined) {
    throw new ConfigError('ERR_INVALID_OPTION', 'give executor or mapFile, not both: mapFile is shorthand for the device-map executor')
  }
  if (o.executor !== undefined && o.checksFile !== undefined) {
    throw new ConfigError('ERR_INVALID_OPTION', 'give executor or checksFile, not both: checksFile is shorthand for the checks executor')
  }
  checkSecurity(o)
  const shorthand = o.checksFile !== undefined ? checksSpec(o.checksFile, o.mapFile) : o.mapFile === undefined ? undefined : deviceMapSpec(o.mapFile)
  const executor = o.executor ?? shorthand
  if (o.maxWorkers > 0 && executor === undefined) {
    throw new ConfigError('ERR_INVALID_OPTION', 'an executor (executor, mapFile for the device map, or checksFile for real checks) is required when the gateway forks workers (maxWorkers > 0)')
  }
  const { mapFile: _shorthand, checksFile: _checks, http, ...rest } = o
  // applySchema read it with httpListen(), whatever form the caller gave.
  const listen = http === undefined ? {} : { http: http as HttpListen }
  return executor === undefined ? { ...rest, ...listen } : { ...rest, ...listen, executor }
}

const ALLOW_LISTS = [
  ['clientsAllow', '--clients-allow'],
  ['workersAllow', '--workers-allow'],
  ['adminsAllow', '--admins-allow'],
] as const

/**
 * CURVE is all or nothing, and never half open: an allow-list needs CURVE (no
 * key is checked without it), and with CURVE every port that others may reach
 * needs its list, so a forgotten flag fails at start instead of letting any
 * key in. An empty directory is the way to admit no one on purpose.
 */
function checkSecurity(o: GatewayOptions): void {
  if (o.curveSecret === undefined) {
    for (const [key, flag] of ALLOW_LISTS) {
      if (o[key] !== undefined) {
        throw new ConfigError('ERR_INVALID_OPTION', `${key} (${flag}) needs curveSecret (--curve-secret FILE): an allow-list names the CURVE keys that may connect, and without CURVE no key is checked`)
      }
    }
  } else {
    const needs = (key: string, flag: string, why: string): ConfigError =>
      new ConfigError('ERR_INVALID_OPTION', `curveSecret (--curve-secret) ${why} needs ${key} (${flag} DIR), a directory of the public certificates allowed to connect (an empty one admits no one)`)
    if (o.clientsAllow === undefined) throw needs('clientsAllow', '--clients-allow', 'on the intake')
    if (o.statusBind !== undefined && o.adminsAllow === undefined) throw needs('adminsAllow', '--admins-allow', 'with a status port (statusBind, --status)')
    if (o.workersBind !== undefined && o.workersAllow === undefined) {
      throw needs('workersAllow', '--workers-allow', "with a worker port for remote workers (workersBind, --workers-bind; forked workers present the gateway's own key, always allowed)")
    }
  }
  if (o.replyAllow !== undefined) {
    try {
      createReplyPolicy(o.replyAllow)
    } catch (error) {
      throw new ConfigError('ERR_INVALID_OPTION', `replyAllow (--reply-allow): ${errorMessage(error)}`, { cause: error })
    }
  }
}
