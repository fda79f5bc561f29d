/**
 * `--fail-on`: which outcomes and check states make a run fail (exit 1).
 * A pure core: it reads the list and judges the final counts.
 */
import { OUTCOMES, type StateCounts } from './outcomes.js'
import type { OutcomeCounts } from './tally.js'

/**
 * What `--fail-on` takes: any outcome, and the three states that are not OK.
 * `ok` is accepted (exit 1 if anything answered: a probe that nothing should
 * reach), as checks.md says outcomes; `state:ok` is not, as checks.md lists
 * only the three others and it would mean the same as `ok` for a check run.
 */
export const FAIL_ON_ITEMS = [...OUTCOMES, 'state:warning', 'state:critical', 'state:unknown'] as const
export type FailOnItem = (typeof FAIL_ON_ITEMS)[number]

/** checks.md's default: a run fails when a command got no proper answer, not when a check reported a bad state. */
export const DEFAULT_FAIL_ON: readonly FailOnItem[] = ['lost', 'unknown', 'failed', 'timeout']

const VALID: ReadonlySet<string> = new Set(FAIL_ON_ITEMS)

/**
 * The items of a list, each checked, duplicates dropped; `undefined` if one is
 * not an item. An empty list is allowed: nothing makes the run fail.
 *
 * @example
 * readFailOn(['lost', 'state:warning']) // ['lost', 'state:warning']
 * readFailOn(['lost', 'warning'])       // undefined
 */
export function readFailOn(items: readonly unknown[]): FailOnItem[] | undefined {
  const list: FailOnItem[] = []
  for (const item of items) {
    if (typeof item !== 'string' || !VALID.has(item)) return undefined
    if (!list.includes(item as FailOnItem)) list.push(item as FailOnItem)
  }
  return list
}

/** Reads `lost,unknown` or `lost unknown` (a flag, an environment variable). */
export function parseFailOn(text: string): FailOnItem[] | undefined {
  return readFailOn(text.split(/[\s,]+/).filter((item) => item.length > 0))
}

/**
 * The items of `failOn` that happened in a run, in `failOn`'s order: the run
 * fails (exit 1) when there is any.
 *
 * @example
 * failuresOf(['lost', 'state:critical'], counts, states) // ['state:critical'] when a check was CRITICAL and nothing was lost
 */
export function failuresOf(failOn: readonly FailOnItem[], counts: OutcomeCounts, states: StateCounts): FailOnItem[] {
  return failOn.filter((item) => (item.startsWith('state:') ? states[item.slice(6) as keyof StateCounts] : counts[item as keyof OutcomeCounts]) > 0)
}
