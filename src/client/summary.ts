/**
 * The client's run summary: the numbers, and the text printed on stdout.
 */
import type { LostBreakdown, OutcomeCounts } from './tally.js'
import { terminalSafe } from '../util/terminal-text.js'

export type { LostBreakdown, OutcomeCounts }

/** Everything a run did, as `run()` returns it and `--json` prints it. */
export interface RunSummary {
  readonly client: string
  /** Commands read from the file; each ends in exactly one of the counts. */
  readonly commands: number
  readonly counts: OutcomeCounts
  readonly batches: number
  readonly batchSize: number
  /** Batches lost, by cause. */
  readonly lostBatches: LostBreakdown
  /** Sum of the numeric responses of code 0. */
  readonly total: number
  readonly elapsedMs: number
  readonly badLines: number
  readonly resends: number
  readonly duplicates: number
  readonly interrupted: boolean
  /** The first send failure, naming the endpoint, when sending stopped early. */
  readonly sendError?: string
  /** 0 every batch answered, 1 some lost, 130 interrupted. */
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

/** The summary as printed on stdout (design.md's format, plus detail lines only when they say something). */
export function formatSummary(s: RunSummary): string {
  const c = s.counts
  const seconds = s.elapsedMs / 1000
  const rate = seconds > 0 ? Math.round(s.commands / seconds) : 0
  const lines = [
    `commands  ${s.commands} sent · ${c.ok} ok · ${c.unknown} unknown · ${c.failed} failed · ${c.timeout} timeout · ${c.lost} lost`,
    `batches   ${s.batches} × ${s.batchSize}${partialLast(s)}`,
    `total     ${s.total}`,
    `elapsed   ${seconds.toFixed(3)} s  (${rate} commands/s)`,
  ]
  const lost = s.lostBatches
  const causes: string[] = []
  if (lost.unsent > 0) causes.push(`${lost.unsent} unsent`)
  // Reasons and errors came from gateways and sockets: escape them before they reach a terminal.
  for (const [reason, n] of Object.entries(lost.rejected)) if (n > 0) causes.push(`${n} rejected ${terminalSafe(reason, { maxLength: 100 })}`)
  if (lost.noResult > 0) causes.push(`${lost.noResult} without result`)
  if (lost.interrupted > 0) causes.push(`${lost.interrupted} interrupted`)
  if (causes.length > 0) lines.push(`lost      ${plural(c.lost, 'command')} in batches: ${causes.join(' · ')}`)
  if (s.sendError !== undefined) lines.push(`error     ${terminalSafe(s.sendError, { maxLength: 1000, escapeBackslash: false })}`)
  if (s.badLines > 0) lines.push(`skipped   ${plural(s.badLines, 'bad line')} (see the log)`)
  if (s.resends > 0 || s.duplicates > 0) {
    lines.push(`resent    ${plural(s.resends, 'batch', 'batches')} · ${plural(s.duplicates, 'duplicate result')} dropped`)
  }
  if (s.interrupted) lines.push('status    interrupted')
  return lines.join('\n')
}
