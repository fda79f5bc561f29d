/** A line of an input file that was skipped, and why. */
export interface BadLine {
  readonly path: string
  readonly line: number
  readonly reason: string
}

/** `file:line: reason`, the form editors and terminals link to. */
export function formatBadLine(bad: BadLine): string {
  return `${bad.path}:${bad.line}: ${bad.reason}`
}
