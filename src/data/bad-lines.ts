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
