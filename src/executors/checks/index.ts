/**
 * The built-in `checks` executor: exact device-map pairs first (when a map
 * is given), then the `targets` allow-list, then the check's per-address
 * limits, then its kind. Filled in by issue 11.
 */
import type { ChecksExecutorOptions } from '../spec.js'
import type { Executor, ExecutorContext } from '../types.js'

export default async function createExecutor(_options: ChecksExecutorOptions, _context: ExecutorContext): Promise<Executor> {
  throw new Error('the checks executor is not built yet')
}
