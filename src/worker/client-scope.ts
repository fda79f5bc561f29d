/**
 * What the held batches of one worker share per client, and the timers the
 * batch runner asks for; see batch-runner.ts.
 */
import { setMaxListeners } from 'node:events'
import type { HeldBatch } from './batch-runner.js'
import type { SlotControl } from './slot-control.js'

/** Timers as the runner asks for them; the adapter passes the real ones, tests a fake. */
export interface TimerPort {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemTimers: TimerPort = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

/**
 * What the held batches of one client share, from its first batch held to
 * its last one settled: the signal its commands run under, aborted by its
 * `cancel` (and by a forced stop), and its batches, for the cancel to settle.
 * A cancel retires the scope: that client's later batches get a fresh one.
 * One whose last batch settled unaborted is parked for its client's next
 * batch ({@link PARKED_SCOPES}).
 */
export class ClientScope {
  readonly controller = new AbortController()
  /** The controller's signal, read once: every command of the client gets it (when no time limit is set). */
  readonly signal: AbortSignal
  /** Batches started and not yet settled. */
  readonly batches = new Set<HeldBatch>()
  /** Controllers of its commands running under a time limit. */
  readonly timed = new Set<AbortController>()
  /** Its commands that gave their first slot back and have no outcome yet (executors with `usesSlots`). */
  readonly away = new Set<SlotControl>()

  /** Batches started under it so far; a parked scope is reused only up to {@link SCOPE_REUSES}. */
  uses = 0

  constructor(readonly client: string) {
    this.signal = this.controller.signal
    // Executors may listen on this one signal from thousands of commands at once.
    setMaxListeners(0, this.signal)
  }
}

/**
 * Scopes whose last batch settled, kept for their client's next batch: a
 * client's batches often settle one by one (zero-wait commands), and a fresh
 * AbortController with its listener limit per batch was a measurable part of
 * a worker's CPU. At most this many are parked, the oldest going first.
 */
export const PARKED_SCOPES = 64
/**
 * Batches one scope serves before it is retired: its signal lives that long,
 * so an executor that leaves a listener on it per command holds a bounded
 * number of them (a fresh scope per batch held none beyond its batch).
 */
export const SCOPE_REUSES = 256
