/**
 * Signals to a whole process group. A plugin is spawned as the leader of its
 * own group, so one `kill(-pgid)` reaches whatever it forked too, and no
 * grandchild outlives its check.
 *
 * A plugin also runs in a session of its own, so nothing kills it when this
 * process dies. The groups still running are therefore kept here and
 * SIGKILLed when this process exits, however it exits (`process.exit`, the
 * end of the event loop). A SIGKILL of this process runs none of that: then
 * the plugin host (plugin-host.ts), whose stdin closes with this process,
 * kills them.
 */

/** Groups of plugins started and not yet ended. */
const liveGroups = new Set<number>()
let exitHookInstalled = false

/**
 * Sends `signal` to every process of group `pgid`. False when the group is
 * already empty (ESRCH) or not ours to signal (EPERM): either way there is
 * nothing more this process can do about it.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  // Most calls find the group empty (the SIGKILL after every exit), and an
  // ESRCH is thrown as an error with a stack trace, 60% of the call's cost.
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  let code: string | undefined
  try {
    process.kill(-pgid, signal)
    return true
  } catch (error) {
    code = (error as NodeJS.ErrnoException).code
  } finally {
    Error.stackTraceLimit = limit
  }
  if (code === 'ESRCH' || code === 'EPERM') return false
  // Anything else is a bug: ask again, for the error with its stack.
  process.kill(-pgid, signal)
  return true
}

/** Group `pgid` is a plugin's, running: SIGKILLed if this process exits before {@link groupEnded}. */
export function groupStarted(pgid: number): void {
  liveGroups.add(pgid)
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', killLiveGroups)
}

/** Group `pgid`'s leader has exited and its stragglers were SIGKILLed: nothing of it to kill at exit. */
export function groupEnded(pgid: number): void {
  liveGroups.delete(pgid)
}

/** SIGKILLs every plugin group still running (synchronous: it runs in an 'exit' handler). */
export function killLiveGroups(): void {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL')
  liveGroups.clear()
}
