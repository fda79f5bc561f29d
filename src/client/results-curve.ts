/**
 * The client's results socket over CURVE: a server on the client's own key
 * (workers connect with it as the task's `replyKey`) and, with
 * `--workers-allow`, a ZAP handler that admits those worker keys alone.
 */
import { ConfigError, errorMessage } from '../errors.js'
import type { Logger, RateLimitedLog } from '../log.js'
import { readAllowList } from '../security/certificates.js'
import type { PeerKeys } from '../security/peer-keys.js'
import type { ResultsCurve } from './results-port.js'

export interface ResultsCurveOptions {
  /** The client's CURVE keys; undefined: plaintext, and no CURVE for the results socket. */
  readonly keys: PeerKeys | undefined
  /** `--workers-allow`: the directory of the worker certificates that may deliver; undefined: any key. */
  readonly workersAllow: string | undefined
  readonly logger: Logger
  /** Where refusals are logged, at a bounded rate: a refused worker reconnects, and is refused, again and again. */
  readonly refusedLog: RateLimitedLog
  /** Counts one refused worker connection. */
  readonly onRefused: () => void
}

/** Reads the allow-list (a `ConfigError` naming `--workers-allow` when it cannot) and logs what CURVE is on. */
export async function resultsCurve(options: ResultsCurveOptions): Promise<ResultsCurve | undefined> {
  const { keys, workersAllow: dir, logger, refusedLog } = options
  if (keys === undefined) return undefined
  let allow: ReadonlySet<string> | undefined
  if (dir !== undefined) {
    try {
      allow = await readAllowList(dir)
    } catch (error) {
      throw new ConfigError('ERR_CERTIFICATE', `--workers-allow: ${errorMessage(error)}`, { cause: error })
    }
    if (allow.size === 0) logger.warn({ workersAllow: dir }, 'the --workers-allow directory holds no *.key certificate: every worker will be refused')
  }
  logger.info({ curveSecret: keys.identityFile, publicKey: keys.identity.publicKey, workersAllow: dir ?? 'any key', allowed: allow?.size }, 'CURVE on')
  return {
    identity: keys.identity,
    allow,
    onRefused: (refusal) => {
      options.onRefused()
      refusedLog.warn({ publicKey: refusal.publicKey, address: refusal.address, reason: refusal.reason }, 'worker refused on the results socket: its key is not in --workers-allow')
    },
    onError: (error) => logger.error({ err: errorMessage(error) }, 'ZAP handler of the results socket failed; every worker is refused from now on'),
  }
}
