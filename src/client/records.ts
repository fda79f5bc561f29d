/**
 * Per-command records of a settled batch, as the `records` event gives them
 * and `--output` writes them. Built only for batches that kept their
 * commands, that is when someone listens.
 */
import type { CommandLine } from '../data/commands-file.js'
import type { CommandOutcome } from '../protocol/types.js'
import { describeLoss, type Loss } from './tally.js'

/** One command's final record, as `--output` writes it. */
export interface CommandRecord {
  /** Its line in the commands file, or its 1-based position in an iterable source. */
  readonly line: number
  readonly address: string
  readonly command: string
  /** The result code, or `null` when the command was lost. */
  readonly code: CommandOutcome[0] | null
  readonly value: unknown
  /** Why the command was lost, when `code` is `null`. */
  readonly lost?: string
}

/** The records of an answered batch: `outcomes[i]` answers `commands[i]`. */
export function answeredRecords(commands: readonly CommandLine[], outcomes: readonly CommandOutcome[]): CommandRecord[] {
  return outcomes.map(([code, value], i) => {
    const { line, address, command } = commands[i]!
    return { line, address, command, code, value }
  })
}

/** The records of a lost batch. */
export function lostRecords(commands: readonly CommandLine[], loss: Loss): CommandRecord[] {
  const why = describeLoss(loss)
  return commands.map(({ line, address, command }) => ({ line, address, command, code: null, value: null, lost: why }))
}
