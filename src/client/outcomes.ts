/**
 * What a client makes of one command, the vocabulary the tally, the records
 * and `--fail-on` share: its outcome (a result code's name, or `lost`) and,
 * when its value is a check's, the check's state (../shared/checks.md).
 */
import type { CheckValue } from '../executors/checks/types.js'

/** Every outcome a command can end in, in the summary's order. */
export const OUTCOMES = ['ok', 'unknown', 'failed', 'timeout', 'cancelled', 'lost'] as const
export type Outcome = (typeof OUTCOMES)[number]

/** The outcome a result code names; CGP/1: a client MUST count a code it does not know as failed. */
const BY_CODE: readonly Exclude<Outcome, 'lost'>[] = ['ok', 'unknown', 'failed', 'timeout', 'cancelled']

/**
 * @example
 * outcomeOf(4) // 'cancelled'
 * outcomeOf(9) // 'failed': a code from a later version of the protocol
 */
export function outcomeOf(code: number): Exclude<Outcome, 'lost'> {
  return BY_CODE[code] ?? 'failed'
}

/** A check's states by their number (the Nagios plugin API's 0–3), as the summary names them. */
export const STATES = ['ok', 'warning', 'critical', 'unknown'] as const
export type StateName = (typeof STATES)[number]

/** How many check values came back in each state. */
export type StateCounts = Record<StateName, number>

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value)
}

/**
 * The state of a code-0 value that is a check's (a map with an integer
 * `state` from 0 to 3 and a string `output`), or `undefined` for any other
 * value: a number, a string, a map of some other executor's.
 */
export function checkStateOf(value: unknown): CheckValue['state'] | undefined {
  if (!isRecord(value)) return undefined
  const state = value.state
  return (state === 0 || state === 1 || state === 2 || state === 3) && typeof value.output === 'string' ? state : undefined
}

/** The `ms` a check value reports, when it is a check value with a usable one. */
export function checkMsOf(value: unknown): number | undefined {
  if (checkStateOf(value) === undefined) return undefined
  const ms = (value as Record<string, unknown>).ms
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined
}
