/**
 * Options of a {@link Client} and their defaults. Names, kinds, ranges,
 * defaults and help live once in the schema (src/options/client.ts); this
 * file keeps the documented interface.
 */
import type { Logger } from '../log.js'
import type { FailOnItem } from './fail-on.js'
import { clientSchema } from '../options/client.js'
import { applySchema, defaultsOf } from '../options/resolve.js'
import { ConfigError } from '../errors.js'

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
   * After {@link Client.interrupt}, how long to wait for the results of the
   * batches in flight, in milliseconds: the gateways cancel the running ones,
   * which come back as `cancelled` (code 4). What is still out after this
   * counts as lost, `interrupted`. 0 does not wait.
   * @default 2000
   */
  readonly abortGraceMs?: number
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
   * What makes a run fail (`summary.exitCode` 1, what run-client exits with):
   * outcomes (`ok`, `unknown`, `failed`, `timeout`, `cancelled`, `lost`) and
   * check states (`state:warning`, `state:critical`, `state:unknown`). An
   * empty list: nothing does. An interrupted run is 130 whatever happened.
   * @default ['lost', 'unknown', 'failed', 'timeout']
   */
  readonly failOn?: readonly FailOnItem[]
  /**
   * This run's client id, 1-128 bytes.
   * @default a random UUID
   */
  readonly id?: string
  /**
   * This client's CURVE certificate, a `NAME.key_secret` file (gateway-keygen
   * or pyzmq write them): turns CURVE on. Every link to the gateways is then
   * encrypted; the results socket becomes a CURVE server on this key, and each
   * task carries its public key as `replyKey`. Needs {@link serverKey}.
   * @default none: plaintext
   */
  readonly curveSecret?: string
  /**
   * The gateways' public certificates (`NAME.key` files): one for every
   * server, or one per server in the order of {@link servers}. Needs {@link curveSecret}.
   * @default none
   */
  readonly serverKey?: string | readonly string[]
  /**
   * With {@link curveSecret}: a directory of public certificates (`*.key`);
   * only workers whose key is among them can deliver results (the others are
   * refused, counted in `summary.workersRefused` and logged). Without it any
   * key may deliver.
   * @default none: any key
   */
  readonly workersAllow?: string
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

/** Defaults of the client's options, from its schema. */
export const clientDefaults = defaultsOf(clientSchema)

/** Client options with every default filled in and every value checked. */
export type ResolvedClientOptions = typeof clientDefaults & ClientOptions

/**
 * Merges the defaults and checks every value; throws {@link ConfigError} naming the option.
 * The schema's kinds carry the rest: at least one server, each endpoint's syntax, the id's 1-128 bytes.
 */
export function resolveClientOptions(options: ClientOptions): ResolvedClientOptions {
  const resolved = applySchema(clientSchema, options)
  if (resolved.workersAllow !== undefined && resolved.curveSecret === undefined) {
    throw new ConfigError('ERR_INVALID_OPTION', `--workers-allow ${resolved.workersAllow} needs --curve-secret: an allow-list of worker keys means CURVE on the results socket`)
  }
  return resolved
}
