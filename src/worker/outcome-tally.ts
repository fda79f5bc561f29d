/**
 * What a settled batch came to, for its `done` (`counts`, `states`) and the
 * worker's metrics: one pass over its outcomes, one increment per command.
 * Only a code-0 value that is an object is looked into, for a check
 * result's `state` (checks.md); the simulated executor's integers cost a
 * `typeof` and nothing more.
 */
import type { CommandOutcome, OutcomeCounts, StateCounts } from '../protocol/types.js'

export interface OutcomeTally {
  readonly counts: OutcomeCounts
  /** Present only when some code-0 value was a check result. */
  readonly states?: StateCounts
}

export function tallyOutcomes(outcomes: readonly CommandOutcome[]): OutcomeTally {
  const counts: [number, number, number, number, number] = [0, 0, 0, 0, 0]
  let states: [number, number, number, number] | undefined
  for (let i = 0; i < outcomes.length; i++) {
    const outcome = outcomes[i]
    // Every command has an outcome once its batch settled; a hole would be a bug elsewhere, not a reason to lose the batch.
    if (outcome === undefined) continue
    const code = outcome[0]
    counts[code]++
    if (code !== 0) continue
    const value = outcome[1]
    if (typeof value !== 'object' || value === null) continue
    const state = (value as { readonly state?: unknown }).state
    if (state === 0 || state === 1 || state === 2 || state === 3) (states ??= [0, 0, 0, 0])[state]++
  }
  return states === undefined ? { counts } : { counts, states }
}
