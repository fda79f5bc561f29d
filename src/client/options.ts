/** Options of a {@link Client} and their defaults. */
import { Limits } from '../protocol/limits.js'
import type { Logger } from '../log.js'
import { ConfigError } from '../errors.js'
import { assertBindable, assertConnectable } from '../transport/endpoint.js'
import { checkInteger, withDefaults } from '../util/options.js'

export interface ClientOptions {
  /**
   * Gateway intake endpoints. Batches are spread across them round-robin.
   * @default ['tcp://127.0.0.1:5557']
   */
  readonly servers?: readonly string[]
  /**
   * Endpoint the results socket binds; `tcp://127.0.0.1:*` picks a free port.
   * @default 'tcp://127.0.0.1:5556'
   */
  readonly bind?: string
  /** `replyTo` announced to workers; required when `bind` listens on every interface (`*`, `0.0.0.0`). */
  readonly advertise?: string
  /**
   * Commands per batch, 1 to 10000.
   * @default 16
   */
  readonly batchSize?: number
  /**
   * Batches in flight (sent, not yet answered) at once.
   * @default 256
   */
  readonly window?: number
  /**
   * Retries of a send while the gateways' high-water mark is reached (or none is connected).
   * @default 10
   */
  readonly sendRetries?: number
  /**
   * Each send attempt waits this long for room, in milliseconds.
   * @default 1000
   */
  readonly retryDelayMs?: number
  /**
   * A batch without a result after this long is resent, in milliseconds.
   * @default 30000
   */
  readonly resultTimeoutMs?: number
  /**
   * Resends of one batch (after a result timeout or a retryable rejection) before it counts as lost.
   * @default 3
   */
  readonly maxResends?: number
  /**
   * Largest message accepted on the results socket, in bytes.
   * @default 16 MiB
   */
  readonly maxMessageBytes?: number
  /**
   * Refuse to send anything if the file has a bad line (checked in a first pass).
   * @default false
   */
  readonly strict?: boolean
  /**
   * This run's client id, 1-128 bytes.
   * @default a random UUID
   */
  readonly id?: string
  /**
   * Awaited before each new batch is sent, when it returns a promise: lets a
   * slow consumer of `records` (a file being written) hold the reading back, so
   * its buffer stays bounded. Called once per batch, so keep it cheap.
   * @default none
   */
  readonly beforeBatch?: () => Promise<void> | undefined
  /** Where to log. @default silent */
  readonly logger?: Logger
}

export const clientDefaults = {
  servers: ['tcp://127.0.0.1:5557'] as readonly string[],
  bind: 'tcp://127.0.0.1:5556',
  batchSize: 16,
  window: 256,
  sendRetries: 10,
  retryDelayMs: 1000,
  resultTimeoutMs: 30_000,
  maxResends: 3,
  maxMessageBytes: Limits.defaultMaxMessageBytes,
  strict: false,
}

/** Client options with every default filled in and every value checked. */
export type ResolvedClientOptions = typeof clientDefaults & ClientOptions

/** Merges the defaults and checks every value; throws {@link ConfigError} naming the option. */
export function resolveClientOptions(options: ClientOptions): ResolvedClientOptions {
  const o = withDefaults(clientDefaults, options)
  if (o.servers.length === 0) throw new ConfigError('ERR_INVALID_OPTION', 'at least one server endpoint is needed')
  for (const server of o.servers) assertConnectable(server, 'server endpoint')
  assertBindable(o.bind, 'bind endpoint')
  if (o.advertise !== undefined) assertConnectable(o.advertise, 'advertise endpoint')
  checkInteger('batchSize', o.batchSize, 1, Limits.defaultMaxBatch)
  checkInteger('window', o.window, 1, 1_000_000)
  checkInteger('sendRetries', o.sendRetries, 0, 1000)
  checkInteger('retryDelayMs', o.retryDelayMs, 1)
  checkInteger('resultTimeoutMs', o.resultTimeoutMs, 1)
  checkInteger('maxResends', o.maxResends, 0, 1000)
  checkInteger('maxMessageBytes', o.maxMessageBytes, 1024)
  return o
}
