/**
 * What stops a running check from outside its own I/O: its time limit and its
 * signal (cancel, forced stop). Every kind arms one watch when it starts and
 * disposes of it when it settles, so no timer and no abort listener outlives
 * a check, and the kinds share one stopwatch for `ms`.
 */
import { CommandTimeoutError } from '../../errors.js'
import type { CheckRun } from './types.js'

/** The longest delay `setTimeout` honours; a longer one would fire at once. */
const MAX_TIMER_MS = 2_147_483_647

export interface RunWatch {
  /** Milliseconds since the watch was armed, to 0.01 ms. */
  elapsedMs(): number
  /** Clears the timer and the abort listener. Idempotent. */
  dispose(): void
}

/**
 * Arms `run`'s time limit and signal: `stop` is called at most once, with a
 * `CommandTimeoutError` when `run.timeoutMs` passes or with the signal's
 * reason when it aborts, and never after `dispose()`. The caller checks
 * `run.signal.aborted` before starting anything.
 *
 * @example
 * const watch = watchRun(run, (reason) => { socket.destroy(); failWith = reason })
 * socket.once('close', () => { watch.dispose(); … })
 */
export function watchRun(run: CheckRun, stop: (reason: unknown) => void): RunWatch {
  const startedAt = performance.now()
  let armed = true
  const fire = (reason: unknown): void => {
    if (!armed) return
    dispose()
    stop(reason)
  }
  const onAbort = (): void => fire(run.signal.reason)
  const timer = setTimeout(() => fire(new CommandTimeoutError(run.address, run.command, run.timeoutMs)), Math.min(run.timeoutMs, MAX_TIMER_MS))
  run.signal.addEventListener('abort', onAbort, { once: true })
  function dispose(): void {
    if (!armed) return
    armed = false
    clearTimeout(timer)
    run.signal.removeEventListener('abort', onAbort)
  }
  return {
    elapsedMs: () => Math.round((performance.now() - startedAt) * 100) / 100,
    dispose,
  }
}
