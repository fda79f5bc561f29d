/**
 * The checks executor, composed: what answers a command, in order.
 *
 * 1. An exact address/command pair of the device map given beside the checks
 *    file answers first (`--checks FILE --map FILE`).
 * 2. A command that names no check is code 1 (unknown).
 * 3. An address outside `targets` is code 1 too, and nothing touches the
 *    network; for an `http` check the URL's host, after `{address}`
 *    substitution, must be inside `targets` as well.
 * 4. The command waits its turn in its address's queue (`per_target`, `rate`),
 *    one queue per device however its address is spelt; while it waits it
 *    holds none of the worker's slots (`usesSlots`, limits.ts).
 * 5. The check's kind runs, with `timeout` capped at the worker's
 *    `commandTimeoutMs` when that is set.
 *
 * The kinds are injected ({@link CheckKinds}), so this file is tested with
 * fakes and the real ones (exec.ts, tcp.ts, http.ts) are wired in index.ts.
 */
import { UnknownCommandError } from '../../errors.js'
import type { Logger } from '../../log.js'
import type { CommandControl, Executor } from '../types.js'
import { TargetLimiter, type LimiterTimers } from './limits.js'
import { substituteUrl } from './substitute.js'
import { canonicalAddress, createTargets } from './targets.js'
import type { CheckDefinition, CheckRun, CheckValue, ChecksConfig, ExecCheck, HttpCheck, RunCheck, TcpCheck } from './types.js'
import type { Clock } from '../../util/clock.js'

/** The three kinds a checks executor runs. */
export interface CheckKinds {
  readonly exec: RunCheck<ExecCheck>
  readonly tcp: RunCheck<TcpCheck>
  readonly http: RunCheck<HttpCheck>
}

/**
 * The device map's answer for an exact address/command pair, or `undefined`
 * when the map has no such pair. A promise is awaited (a map entry may wait
 * before it answers); `signal` is the command's.
 */
export type MapLookup = (address: string, command: string, signal: AbortSignal) => unknown

export interface ChecksExecutorDeps {
  readonly kinds: CheckKinds
  /** Exact pairs that answer before any check (`--map` beside `--checks`). */
  readonly map?: MapLookup
  /** The worker's per-command limit in milliseconds; 0 or absent: none. It caps every check's `timeout`. */
  readonly commandTimeoutMs?: number
  /** Told, at debug, why a command was refused; nothing per command otherwise. */
  readonly logger?: Logger
  /**
   * Most per-address queues kept (see limits.ts).
   * @default 10000
   */
  readonly maxQueues?: number
  /** For tests of the queues' idle drop. @default the monotonic clock */
  readonly clock?: Clock
  /** For tests of the queues' idle drop. @default the real timers, unref'd */
  readonly timers?: LimiterTimers
}

/**
 * Most addresses whose `targets` decision an executor remembers; when full,
 * it forgets them all and starts afresh (a client sending ever new addresses
 * then only pays for the matching again).
 */
export const MAX_REMEMBERED_ADDRESSES = 10_000

/** The hostname of a URL as `targets` reads it: `[::1]` loses its brackets. */
function urlHost(url: URL): string {
  const host = url.hostname
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/**
 * The executor of a parsed checks file. Its `close()` rejects commands still
 * waiting for their turn, waits for the running ones to end, and drops every
 * queue and timer.
 *
 * @example
 * const executor = createChecksExecutor(await readChecksFile('checks.toml'), { kinds: { exec: runExec, tcp: runTcp, http: runHttp } })
 * await executor('127.0.0.1', 'ssh', AbortSignal.timeout(5000)) // { state: 0, output: 'connected in 1 ms', ms: 1 }
 */
export function createChecksExecutor(config: ChecksConfig, deps: ChecksExecutorDeps): Executor {
  const targets = createTargets(config.targets)
  const limiter = new TargetLimiter({
    ...(deps.maxQueues === undefined ? {} : { maxQueues: deps.maxQueues }),
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    ...(deps.timers === undefined ? {} : { timers: deps.timers }),
  })
  const { kinds, map, logger } = deps
  const cap = deps.commandTimeoutMs !== undefined && deps.commandTimeoutMs > 0 ? deps.commandTimeoutMs : Number.POSITIVE_INFINITY

  /**
   * Each address's decision, by the spelling a client sent: its canonical
   * spelling (the queue's key) when `targets` allows it, `null` when not.
   * The list never changes, so the answer is the same each time; matching it
   * (BlockList, the canonical IPv6 form) on every command cost a few µs of
   * a tcp check's ~40.
   */
  const decisions = new Map<string, string | null>()
  const canonicalIfAllowed = (address: string): string | null => {
    let decision = decisions.get(address)
    if (decision === undefined) {
      decision = targets.allows(address) ? canonicalAddress(address) : null
      if (decisions.size >= MAX_REMEMBERED_ADDRESSES) decisions.clear()
      decisions.set(address, decision)
    }
    return decision
  }

  const refuse = (address: string, command: string, why: string): never => {
    if (logger?.isLevelEnabled('debug') === true) logger.debug({ address, command, file: config.file }, why)
    throw new UnknownCommandError(address, command)
  }

  const runKind = (check: CheckDefinition, run: CheckRun): Promise<CheckValue> => {
    switch (check.kind) {
      case 'exec':
        return kinds.exec(check, run)
      case 'tcp':
        return kinds.tcp(check, run)
      case 'http':
        return kinds.http(check, run)
    }
  }

  /** The limits' queue and the kind for a command that may run, or why it may not (thrown). */
  const admit = (address: string, command: string, signal: AbortSignal, control: CommandControl | undefined): Promise<unknown> => {
    const check = config.checks.get(command)
    if (check === undefined) return refuse(address, command, 'no such check')
    const device = canonicalIfAllowed(address)
    if (device === null) return refuse(address, command, 'address outside targets')
    if (check.kind === 'http') {
      let url: URL
      try {
        url = substituteUrl(check.url, address)
      } catch {
        throw new Error(`check "${check.name}": ${check.url} with address ${address} is not a valid URL`)
      }
      if (!targets.allows(urlHost(url))) return refuse(address, command, `URL host ${url.hostname} outside targets`)
    }
    const run: CheckRun = { address, signal, timeoutMs: Math.min(check.limits.timeoutMs, cap), command }
    // The queue is the device's, however the client spelt its address.
    return limiter.run(device, check.limits, signal, () => runKind(check, run), control)
  }

  // Not async: the limiter's promise is handed on as it is, without a wrapper promise per command.
  const executor: Executor = (address, command, signal, control) => {
    if (map !== undefined) {
      const answer = map(address, command, signal)
      if (answer !== undefined) return Promise.resolve(answer)
    }
    try {
      return admit(address, command, signal, control)
    } catch (error) {
      return Promise.reject(error)
    }
  }
  executor.close = () => limiter.close()
  executor.usesSlots = true
  return executor
}
