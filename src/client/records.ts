/**
 * Per-command records of a settled batch, as the `records` event gives them
 * and `--output` writes them (one JSON line each, fields as checks.md lists
 * them). Built only for batches that kept their commands, that is when
 * someone listens.
 */
import type { CommandLine } from '../data/commands-file.js'
import { checkMsOf, outcomeOf, type Outcome } from './outcomes.js'
import type { ReceivedOutcome } from './results.js'
import { describeLoss, type Loss } from './tally.js'

/** One command's final record, as `--output` writes it. */
export interface CommandRecord {
  /** Its line in the commands file, or its 1-based position in an iterable source. */
  readonly line: number
  readonly address: string
  readonly command: string
  /** The result code as it came (a `ResultCode`, or a code this client does not know), or `null` when the command was lost. */
  readonly code: number | null
  /** What the command came to: the code's name (`failed` for a code this client does not know), or `lost`. */
  readonly outcome: Outcome
  /** The value that came with the code (a check value for a check: `{ state, output, perfdata?, ms }`); `null` when lost. */
  readonly value: unknown
  /**
   * How long it took, in milliseconds: a check value's own `ms`, otherwise
   * the batch's round trip as this client measured it (from the send that was
   * answered to its result); `null` when lost.
   */
  readonly ms: number | null
  /** The id of the worker that answered (its result's header), `null` when lost. */
  readonly worker: string | null
  /** Why the command was lost, when `outcome` is `lost`: `no result`, `unsent`, `interrupted`, `rejected <reason>`. */
  readonly lost?: string
}

/** Who answered a batch and how long its round trip took, in milliseconds. */
export interface Answer {
  readonly worker: string
  readonly roundTripMs: number
}

/** Milliseconds to the microsecond: a monotonic clock's digits beyond that are noise. */
function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

/** The records of an answered batch: `outcomes[i]` answers `commands[i]`. */
export function answeredRecords(commands: readonly CommandLine[], outcomes: readonly ReceivedOutcome[], answer: Answer): CommandRecord[] {
  const roundTrip = roundMs(answer.roundTripMs)
  return outcomes.map(([code, value], i) => {
    const { line, address, command } = commands[i]!
    const ms = code === 0 ? (checkMsOf(value) ?? roundTrip) : roundTrip
    return { line, address, command, code, outcome: outcomeOf(code), value, ms, worker: answer.worker }
  })
}

/** The records of a lost batch. */
export function lostRecords(commands: readonly CommandLine[], loss: Loss): CommandRecord[] {
  const why = describeLoss(loss)
  return commands.map(({ line, address, command }) => ({ line, address, command, code: null, outcome: 'lost', value: null, ms: null, worker: null, lost: why }))
}
