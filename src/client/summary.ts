/**
 * The client's run summary: the numbers, and the text printed on stdout.
 */
import type { FailOnItem } from './fail-on.js'
import { withoutFloatNoise, type LostBreakdown, type OutcomeCounts, type StateCounts } from './tally.js'
import { terminalSafe } from '../util/terminal-text.js'

export type { FailOnItem, LostBreakdown, OutcomeCounts, StateCounts }

/** Everything a run did, as `run()` returns it and `--json` prints it. */
export interface RunSummary {
  readonly client: string
  /** Commands read from the file; each ends in exactly one of the counts. */
  readonly commands: number
  /**
   * Commands handed to the socket (ZeroMQ took their batch) at least once;
   * the rest of {@link commands} never left and are among the `lost`.
   */
  readonly sent: number
  readonly counts: OutcomeCounts
  /** The states of the check values among the `ok` (all 0 when no check value came back). */
  readonly states: StateCounts
  readonly batches: number
  readonly batchSize: number
  /** Batches lost, by cause. */
  readonly lostBatches: LostBreakdown
  /** Sum of the numeric responses of code 0, without float noise (15.824, not 15.824000000000002). */
  readonly total: number
  readonly elapsedMs: number
  readonly badLines: number
  readonly resends: number
  readonly duplicates: number
  readonly interrupted: boolean
  /** The first send failure, naming the endpoint, when sending stopped early. */
  readonly sendError?: string
  /** With `workersAllow`: worker connections to the results socket refused because their key is not listed (their results never arrive). */
  readonly workersRefused?: number
  /** The items of `failOn` that happened, in its order; the run failed (exit code 1) when there is any. */
  readonly failedOn: readonly FailOnItem[]
  /** 0 nothing in `failOn` happened, 1 something did ({@link failedOn} says what), 130 interrupted. */
  readonly exitCode: 0 | 1 | 130
}

function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`
}

/** ` (last 5)` when the last batch is partial, so `batches` never overstates the commands. */
function partialLast(s: RunSummary): string {
  if (s.batches === 0) return ''
  const last = s.commands - (s.batches - 1) * s.batchSize
  return last > 0 && last < s.batchSize ? ` (last ${last})` : ''
}

/** Commands that came back with an outcome (codes 0-4 and unknown codes): everything but the lost. */
export function finishedCommands(c: OutcomeCounts): number {
  return c.ok + c.unknown + c.failed + c.timeout + c.cancelled
}

/**
 * Finished commands per second over the run, rounded; 0 when no time passed.
 * Lost commands are not work done, so they never count: a run whose batches
 * all went unsent has a rate of 0, not "512 commands in 11 s".
 */
export function commandsPerSecond(s: Pick<RunSummary, 'counts' | 'elapsedMs'>): number {
  const seconds = s.elapsedMs / 1000
  return seconds > 0 ? Math.round(finishedCommands(s.counts) / seconds) : 0
}

/**
 * The first line: design.md's `512 sent · 512 ok · …` when every command read
 * was sent; when some never left, `512 read · 0 sent · …`, so `sent` never
 * claims what did not happen and the counts still add up to the first number.
 */
function commandsLine(s: RunSummary): string {
  const c = s.counts
  const head = s.sent === s.commands ? `${s.sent} sent` : `${s.commands} read · ${s.sent} sent`
  return `commands  ${head} · ${c.ok} ok · ${c.unknown} unknown · ${c.failed} failed · ${c.timeout} timeout · ${c.cancelled} cancelled · ${c.lost} lost`
}

/** The summary as printed on stdout (design.md's format, plus detail lines only when they say something). */
export function formatSummary(s: RunSummary): string {
  const c = s.counts
  const seconds = s.elapsedMs / 1000
  const lines = [commandsLine(s)]
  const st = s.states
  // Only a run of checks has states to show; a device map's integers have none.
  if (st.ok + st.warning + st.critical + st.unknown > 0) {
    lines.push(`states    ${st.ok} ok · ${st.warning} warning · ${st.critical} critical · ${st.unknown} unknown`)
  }
  lines.push(
    `batches   ${s.batches} × ${s.batchSize}${partialLast(s)}`,
    `total     ${withoutFloatNoise(s.total)}`,
    `elapsed   ${seconds.toFixed(3)} s  (${commandsPerSecond(s)} commands/s)`,
  )
  const lost = s.lostBatches
  const causes: string[] = []
  if (lost.unsent > 0) causes.push(`${lost.unsent} unsent`)
  // Reasons and errors came from gateways and sockets: escape them before they reach a terminal.
  for (const [reason, n] of Object.entries(lost.rejected)) if (n > 0) causes.push(`${n} rejected ${terminalSafe(reason, { maxLength: 100 })}`)
  if (lost.noResult > 0) causes.push(`${lost.noResult} without result`)
  if (lost.interrupted > 0) causes.push(`${lost.interrupted} interrupted`)
  if (causes.length > 0) lines.push(`lost      ${plural(c.lost, 'command')} in batches: ${causes.join(' · ')}`)
  if (s.sendError !== undefined) lines.push(`error     ${terminalSafe(s.sendError, { maxLength: 1000, escapeBackslash: false })}`)
  if (s.workersRefused !== undefined && s.workersRefused > 0) {
    lines.push(`refused   ${plural(s.workersRefused, 'worker connection')} whose key is not in --workers-allow (see the log)`)
  }
  if (s.badLines > 0) lines.push(`skipped   ${plural(s.badLines, 'bad line')} (see the log)`)
  if (s.resends > 0 || s.duplicates > 0) {
    lines.push(`resent    ${plural(s.resends, 'batch', 'batches')} · ${plural(s.duplicates, 'duplicate result')} dropped`)
  }
  if (s.interrupted) lines.push('status    interrupted')
  return lines.join('\n')
}
