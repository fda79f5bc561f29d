/**
 * Signals to a whole process group. A plugin is spawned as the leader of its
 * own group, so one `kill(-pgid)` reaches whatever it forked too, and no
 * grandchild outlives its check.
 */

/**
 * Sends `signal` to every process of group `pgid`. False when the group is
 * already empty (ESRCH) or not ours to signal (EPERM): either way there is
 * nothing more this process can do about it.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ESRCH' || code === 'EPERM') return false
    throw error
  }
}
