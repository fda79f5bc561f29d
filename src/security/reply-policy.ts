/**
 * The gateway's replyTo policy (`--reply-allow`): which endpoints a task may
 * name as its `replyTo`. Workers connect to a task's `replyTo`, and the
 * gateway connects there to answer `rejected`, so without a policy any
 * client that may submit can make them connect to any host, port or unix
 * socket (a connect-back primitive). A task outside the policy is never
 * connected to and never answered.
 *
 * Entries, as the checks file's `targets` (src/executors/checks/targets.ts,
 * whose matcher this reuses): CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`),
 * single addresses (`192.0.2.7`, `::1`) and host-name globs
 * (`*.dc1.example`), plus the word `ipc`, which allows every `ipc://`
 * endpoint. A `tcp://` endpoint's host is matched as written: an IP literal
 * (IPv6 in brackets) against the blocks, a name against the globs, never
 * resolved (`tcp://localhost:5556` is outside `127.0.0.0/8`). Ports are not
 * part of the policy. A host literally named `ipc` is written `ipc.`.
 */
import { createTargets, targetProblem } from '../executors/checks/targets.js'

/** A checked replyTo policy. */
export interface ReplyPolicy {
  /** The entries as given, for logs and the status view. */
  readonly entries: readonly string[]
  /** True when the gateway and its workers may connect to `endpoint`. Never throws, whatever the string. */
  allows(endpoint: string): boolean
}

const IPC_WORD = 'ipc'
/** `tcp://host:port`: a bracketed IPv6 literal, or anything without `:`, `/` and brackets. */
const TCP_ENDPOINT = /^tcp:\/\/(\[[^\]]*\]|[^:/[\]]*):[0-9]{1,5}$/

const UNSPECIFIED = /^(0\.0\.0\.0|\[(0*:)+0*\]|\[::(ffff:)?0\.0\.0\.0\])$/i

const isIpcWord = (entry: string): boolean => entry.toLowerCase() === IPC_WORD

/** The entries of `10.0.0.0/8,*.dc1.example,ipc`: split on commas and white space, empty parts dropped. */
export function splitReplyAllow(text: string): string[] {
  return text.split(/[\s,]+/).filter((part) => part.length > 0)
}

/**
 * Why `entry` is not a valid `--reply-allow` entry, or `undefined`.
 *
 * @example
 * replyAllowProblem('10.0.0.0/33') // '"10.0.0.0/33" is not a CIDR block: the prefix must be 0 to 32'
 */
export function replyAllowProblem(entry: string): string | undefined {
  return isIpcWord(entry) ? undefined : targetProblem(entry)
}

/**
 * The policy of `entries`. Throws `TypeError` naming the first bad entry, or
 * when there is none (an empty policy would answer no one: leave the option
 * out to allow every replyTo).
 *
 * @example
 * const policy = createReplyPolicy(['10.0.0.0/8', '*.dc1.example', 'ipc'])
 * policy.allows('tcp://10.1.2.3:5556') // true
 * policy.allows('tcp://[::1]:5556') // false
 * policy.allows('ipc:///run/cgw/results.sock') // true
 */
export function createReplyPolicy(entries: readonly string[]): ReplyPolicy {
  if (entries.length === 0) throw new TypeError('the list is empty (leave it out to allow every replyTo)')
  for (const entry of entries) {
    const problem = replyAllowProblem(entry)
    if (problem !== undefined) throw new TypeError(problem)
  }
  const ipc = entries.some(isIpcWord)
  const hostEntries = entries.filter((entry) => !isIpcWord(entry))
  const hosts = hostEntries.length === 0 ? undefined : createTargets(hostEntries)
  return {
    entries: [...entries],
    allows(endpoint: string): boolean {
      if (typeof endpoint !== 'string') return false
      if (endpoint.startsWith('ipc://')) return ipc
      const host = TCP_ENDPOINT.exec(endpoint)?.[1]
      // `*`, 0.0.0.0 and :: are for binding; a connect to them reaches this very host on Linux,
      // whatever the list says, so no entry (not even 0.0.0.0/0) allows them.
      if (host === undefined || host.length === 0 || host.includes('*') || UNSPECIFIED.test(host)) return false
      return hosts?.allows(host) ?? false
    },
  }
}
