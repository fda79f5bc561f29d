/**
 * Second runs waiting for a worker: a client's resend of a batch that a
 * worker already holds (a straggler, or a hoarder), which must run on a
 * different worker. They wait here, not in the client's queue, so a copy that
 * no free worker may take never holds up that client's other batches, and
 * they are offered first whenever there is credit. Their bodies count
 * against the byte bound while they wait (the held copy counts too: the bound
 * errs on the safe side).
 */
import { Deque } from '../util/deque.js'
import type { DispatchQueue, QueuedBatch } from './dispatch-queue.js'

export class SecondRuns {
  private readonly waiting = new Deque<QueuedBatch>()

  constructor(private readonly bytes: DispatchQueue) {}

  get length(): number {
    return this.waiting.length
  }

  add(batch: QueuedBatch): void {
    if (batch.secondRun) return
    batch.secondRun = true
    this.bytes.hold(batch.body.length)
    this.waiting.push(batch)
  }

  /** Takes a batch out (its first run finished, or it is given up). O(waiting). */
  withdraw(batch: QueuedBatch): void {
    if (!batch.secondRun) return
    this.waiting.removeWhere((b) => b === batch)
    this.release(batch)
  }

  /** Takes out and returns every waiting batch that `matches`. */
  withdrawWhere(matches: (batch: QueuedBatch) => boolean): QueuedBatch[] {
    const removed = this.waiting.removeWhere(matches)
    for (const batch of removed) this.release(batch)
    return removed
  }

  /**
   * Offers each waiting batch once, oldest first, while `more()` holds:
   * `place` returns true when it handed the batch to a worker (it leaves),
   * false to keep it waiting.
   */
  offer(place: (batch: QueuedBatch) => boolean, more: () => boolean): void {
    for (let left = this.waiting.length; left > 0 && more(); left--) {
      const batch = this.waiting.shift()!
      if (place(batch)) this.release(batch)
      else this.waiting.push(batch)
    }
  }

  private release(batch: QueuedBatch): void {
    batch.secondRun = false
    this.bytes.hold(-batch.body.length)
  }
}
