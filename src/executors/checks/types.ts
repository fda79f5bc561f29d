/**
 * The checks executor's shared vocabulary (see ../shared/checks.md, the
 * contract): what a parsed checks file holds, what a check returns, and the
 * shape every kind (`exec`, `tcp`, `http`) implements. Types and constants
 * only, so the parser, the kinds and the composition depend on this file and
 * not on one another.
 */

/** A check's state, as the Nagios plugin API numbers them. */
export const CheckState = { Ok: 0, Warning: 1, Critical: 2, Unknown: 3 } as const
export type CheckState = (typeof CheckState)[keyof typeof CheckState]

/** The value of a check that produced a state (result code 0), a MessagePack map on the wire. */
export interface CheckValue {
  readonly state: CheckState
  /** The plugin's first line before `|`, or e.g. `connected in 3 ms`, `HTTP 503`, `ECONNREFUSED`. */
  readonly output: string
  /** The plugin's performance data (after `|` on its first line), when it printed any. */
  readonly perfdata?: string
  /** How long the check took, in milliseconds. */
  readonly ms: number
}

/** Limits of one check against one address. */
export interface CheckLimits {
  /** Milliseconds before the check is ended and answered code 3. Always > 0. */
  readonly timeoutMs: number
  /** Commands of this check running at once against one address. */
  readonly perTarget: number
  /** Commands started per `intervalMs` against one address, when a `rate` is set. */
  readonly rate?: { readonly count: number; readonly intervalMs: number }
}

export interface ExecCheck {
  readonly kind: 'exec'
  /** The program (an absolute path, checked executable at load) and its arguments; `{address}` may appear in any argument. */
  readonly argv: readonly [string, ...string[]]
}

export interface TcpCheck {
  readonly kind: 'tcp'
  readonly port: number
}

export interface HttpCheck {
  readonly kind: 'http'
  /** The URL template; `{address}` may appear in it (an IPv6 address is put in brackets in the host part). */
  readonly url: string
  /** Status codes that mean OK; the default is 200–399. */
  readonly expect: ReadonlySet<number> | 'default'
}

export type CheckKind = ExecCheck | TcpCheck | HttpCheck

/** One `[check.NAME]`, resolved against `[defaults]`. */
export type CheckDefinition = CheckKind & { readonly name: string; readonly limits: CheckLimits }

/** A parsed, validated checks file. */
export interface ChecksConfig {
  /** The file it was read from, for messages. */
  readonly file: string
  /** The `targets` allow-list, as written (the matcher is built from it). */
  readonly targets: readonly string[]
  readonly checks: ReadonlyMap<string, CheckDefinition>
}

/** What a kind is given to run one check against one address. */
export interface CheckRun {
  readonly address: string
  /** Fires on cancel (code 4) or a forced stop: end the I/O, kill the process group, and reject. */
  readonly signal: AbortSignal
  /** The check's time limit, already capped at the worker's: on expiry end the I/O and throw `CommandTimeoutError`. */
  readonly timeoutMs: number
  /** The check's name and its address, for messages. */
  readonly command: string
}

/**
 * A kind: runs `check` once and resolves with its state, or rejects with
 * `CommandTimeoutError` (code 3), the signal's reason (cancelled), or an
 * error whose message is the reason it failed (code 2). It resolves or rejects
 * only once nothing it started is left: no child process, socket or timer.
 */
export type RunCheck<Check extends CheckKind> = (check: Check, run: CheckRun) => Promise<CheckValue>
