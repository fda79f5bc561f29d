/**
 * The waiting list each per-address p-queue is given (see limits.ts).
 */
import type { QueueAddOptions } from 'p-queue'

type RunFunction = () => Promise<unknown>

/**
 * p-queue's waiting list, FIFO, with removal by id: p-queue 8 leaves an
 * aborted entry in its own queue until its turn comes (and only then
 * rejects), which would keep an aborted command's promise and its place.
 */
export class FifoQueue {
  private readonly runs = new Map<string, RunFunction>()
  /** Set for a rate-limited lane: see {@link Lane}'s comment on p-queue's timers. */
  neverEmpty = false

  get size(): number {
    return this.neverEmpty ? Math.max(1, this.runs.size) : this.runs.size
  }

  enqueue(run: RunFunction, options?: Partial<QueueAddOptions>): void {
    // p-queue's add() always gives an id; ours are unique per queue.
    this.runs.set(options?.id ?? String(this.runs.size), run)
  }

  dequeue(): RunFunction | undefined {
    for (const [id, run] of this.runs) {
      this.runs.delete(id)
      return run
    }
    return undefined
  }

  filter(): RunFunction[] {
    return [...this.runs.values()]
  }

  setPriority(): void {
    throw new Error('per-address queues are FIFO: priorities are not used')
  }

  /** Takes a waiting entry out; false when it is not waiting (it started, or was removed). */
  remove(id: string): boolean {
    return this.runs.delete(id)
  }
}
