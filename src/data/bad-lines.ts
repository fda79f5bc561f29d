import { terminalSafe } from '../util/terminal-text.js'

/** A line of an input file that was skipped, and why. */
export interface BadLine {
  readonly path: string
  readonly line: number
  readonly reason: string
}

/**
 * `file:line: reason`, the form editors and terminals link to. Reasons quote
 * the line (JSON-escaped, which leaves DEL, C1 and bidi characters as they
 * are), so the whole text goes through {@link terminalSafe}.
 */
export function formatBadLine(bad: BadLine): string {
  return terminalSafe(`${bad.path}:${bad.line}: ${bad.reason}`, { escapeBackslash: false })
}

/** Bad lines (and duplicate entries) logged per file; the rest are counted. */
export const BAD_LINES_LOGGED = 100

/**
 * Logs the first {@link BAD_LINES_LOGGED} lines given to it and counts the
 * rest, so a file of a million bad lines costs a hundred log lines and no
 * memory per line.
 */
export class CappedLineLog {
  /** Lines given, logged or not. */
  count = 0

  constructor(
    private readonly log: (text: string) => void,
    readonly limit = BAD_LINES_LOGGED,
  ) {}

  add(bad: BadLine): void {
    if (++this.count <= this.limit) this.log(formatBadLine(bad))
  }

  /** Lines given but not logged. */
  get unlogged(): number {
    return Math.max(0, this.count - this.limit)
  }
}

/**
 * The one line that says what `logs` held back for input `name`, such as
 * `map.txt: 5 more bad lines and 3 more duplicate entries not logged (only
 * the first 100 of each are)`, each log with what it counts; undefined when
 * they logged everything.
 */
export function unloggedLine(name: string, logs: readonly (readonly [log: CappedLineLog, what: string])[]): string | undefined {
  const rest = logs.filter(([log]) => log.unlogged > 0).map(([log, what]) => `${log.unlogged} more ${what}`)
  if (rest.length === 0) return undefined
  const limit = logs[0]![0].limit
  return `${terminalSafe(name, { escapeBackslash: false })}: ${rest.join(' and ')} not logged (only the first ${limit}${logs.length > 1 ? ' of each' : ''} are)`
}
