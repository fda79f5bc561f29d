/**
 * Dispatch credit: the workers that can take a batch now, served round-robin,
 * one batch per turn. A worker is in the ring while it has free capacity, so
 * picking the next one is O(1) and never favours the largest declared
 * capacity (dispatching to the freest worker handed a rogue that declared
 * 1 000 000 every batch of the next client).
 */
import { Deque } from '../util/deque.js'

/** What the ring needs to know of a worker. */
export interface CreditHolder {
  /** Batches it can take now. */
  readonly free: number
  /** False once it has left or was lost: its place in the ring is dropped lazily. */
  readonly live: boolean
  /** Kept by the ring: whether the worker has a place in it. @internal */
  inRing: boolean
}

export class CreditRing<W extends CreditHolder> {
  private readonly ring = new Deque<W>()

  /** Gives `worker` a place at the back of the ring if it has free capacity and none yet. */
  offer(worker: W): void {
    if (worker.inRing || !worker.live || worker.free <= 0) return
    worker.inRing = true
    this.ring.push(worker)
  }

  /**
   * The next worker in turn with free capacity that `accepts` (default: any),
   * taken out of the ring; {@link offer} it again once it has been given its
   * batch. Workers passed over keep their turn. Undefined when none can.
   */
  take(accepts?: (worker: W) => boolean): W | undefined {
    let passedOver: W[] | undefined
    let found: W | undefined
    for (let left = this.ring.length; left > 0 && found === undefined; left--) {
      const worker = this.ring.shift()!
      worker.inRing = false
      if (!worker.live || worker.free <= 0) continue
      if (accepts !== undefined && !accepts(worker)) (passedOver ??= []).push(worker)
      else found = worker
    }
    if (passedOver !== undefined) {
      for (let i = passedOver.length - 1; i >= 0; i--) {
        passedOver[i]!.inRing = true
        this.ring.unshift(passedOver[i]!)
      }
    }
    return found
  }

  /** Whether some live worker has free capacity. */
  get hasCredit(): boolean {
    for (let worker = this.ring.peek(); worker !== undefined; worker = this.ring.peek()) {
      if (worker.live && worker.free > 0) return true
      this.ring.shift()
      worker.inRing = false
    }
    return false
  }
}
