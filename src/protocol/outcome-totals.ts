/**
 * Running totals of command outcomes and check states, as the gateway and
 * the worker keep them, and the one way to add a `done` report's count
 * tuples (`counts`, `states`) into them.
 */
import type { OutcomeCounts, StateCounts } from './types.js'

/** Commands by outcome (result codes 0–4). */
export interface CommandCounts {
  ok: number
  unknown: number
  failed: number
  timeout: number
  cancelled: number
}

/** Check results (code 0 with a `state`) by state. */
export interface StateTotals {
  ok: number
  warning: number
  critical: number
  unknown: number
}

export function zeroCommandCounts(): CommandCounts {
  return { ok: 0, unknown: 0, failed: 0, timeout: 0, cancelled: 0 }
}

export function zeroStateTotals(): StateTotals {
  return { ok: 0, warning: 0, critical: 0, unknown: 0 }
}

/** Adds a `counts` tuple (ok, unknown, failed, timeout, cancelled) into `totals`. */
export function addOutcomeCounts(totals: CommandCounts, [ok, unknown, failed, timeout, cancelled]: OutcomeCounts): void {
  totals.ok += ok
  totals.unknown += unknown
  totals.failed += failed
  totals.timeout += timeout
  totals.cancelled += cancelled
}

/** Adds a `states` tuple (OK, WARNING, CRITICAL, UNKNOWN) into `totals`. */
export function addStateCounts(totals: StateTotals, [ok, warning, critical, unknown]: StateCounts): void {
  totals.ok += ok
  totals.warning += warning
  totals.critical += critical
  totals.unknown += unknown
}
