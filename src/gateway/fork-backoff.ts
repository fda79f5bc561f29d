/**
 * When the gateway may fork again. A worker that dies while booting (an
 * executor module that does not load, a broken install) would otherwise be
 * re-forked in a tight loop: each such death doubles the pause, 250 ms up to
 * 30 s, and the first worker that says `ready` resets it. Pure: every call
 * takes `now`.
 */

/** A worker that exits sooner than this after its fork, without saying ready, died booting. */
export const BOOT_WINDOW_MS = 5000
const FIRST_PAUSE_MS = 250
const MAX_PAUSE_MS = 30_000

export interface WorkerExitFacts {
  readonly forkedAt: number
  readonly ready: boolean
  readonly code: number | null
  /** Its executor could not be loaded (exit 78): that fails the same way however long loading took. */
  readonly configFailure: boolean
}

export class ForkBackoff {
  private crashes = 0
  private pausedUntil = 0

  /** Consecutive boot deaths since the last worker said ready. */
  get bootDeaths(): number {
    return this.crashes
  }

  mayFork(now: number): boolean {
    return now >= this.pausedUntil
  }

  /** A worker said `ready`: forking works again. */
  workerReady(): void {
    this.crashes = 0
  }

  /** A fork itself failed (no pid). Returns the pause now in force. */
  forkFailed(now: number): number {
    return this.pause(now)
  }

  /** A worker exited. Returns the pause now in force when that exit was a boot death, else undefined. */
  workerExited(exit: WorkerExitFacts, now: number): number | undefined {
    // Exit 0 is a worker that left on the poison pill (it said ready after shutdown began), not a crash.
    if (exit.ready || exit.code === 0) return undefined
    const booting = now - exit.forkedAt < BOOT_WINDOW_MS || exit.configFailure
    return booting ? this.pause(now) : undefined
  }

  private pause(now: number): number {
    this.crashes++
    const pauseMs = Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (this.crashes - 1))
    this.pausedUntil = now + pauseMs
    return pauseMs
  }
}
