/**
 * One worker connected to the gateway's worker port, and the batches it
 * holds. The registry key is the connection's ZeroMQ routing id, which the
 * ROUTER assigns (workers set none), so no peer can take over another's
 * connection; the CGP/1 `worker` id is what the status view shows.
 */
import { BatchIndex } from './batch-index.js'
import type { CreditHolder } from './credit-ring.js'
import type { QueuedBatch } from './dispatch-queue.js'

export class WorkerSession implements CreditHolder {
  /** Batches it holds, by client and id. */
  private readonly index = new BatchIndex<QueuedBatch>()
  /** The same batches, each with when it was handed over; insertion order is hand-over order. */
  private readonly since = new Map<QueuedBatch, number>()
  live = true
  inRing = false
  /** Batches it finished since it joined. */
  served = 0
  lastSent = 0
  /** When it last became empty-handed. */
  idleSince: number

  constructor(
    /** The routing id as a map key. */
    readonly key: string,
    readonly identity: Buffer,
    /** Its CGP/1 `worker` id. */
    readonly id: string,
    /** Batches it may hold: what it declared, capped by the gateway. */
    public capacity: number,
    /** When it was last heard from. */
    public lastSeen: number,
    /** One of the gateway's own forked processes (its id is the pool's, unguessable). */
    readonly forked = false,
  ) {
    this.idleSince = lastSeen
  }

  get holding(): number {
    return this.since.size
  }

  get free(): number {
    return this.capacity - this.since.size
  }

  /** Whether it holds a batch of this client and id (any copy: an earlier run counts too). */
  holdsId(client: string, id: string): boolean {
    return this.index.has(client, id)
  }

  hold(batch: QueuedBatch, now: number): void {
    this.index.set(batch.client, batch.id, batch)
    this.since.set(batch, now)
  }

  /** Takes back the batch it reports `done`, if it holds it. */
  release(client: string, id: string, now: number): QueuedBatch | undefined {
    const batch = this.index.take(client, id)
    if (batch === undefined) return undefined
    this.since.delete(batch)
    if (this.since.size === 0) this.idleSince = now
    return batch
  }

  /** When it was handed the batch it has held longest, if it holds any. */
  get oldestSince(): number | undefined {
    for (const at of this.since.values()) return at
    return undefined
  }

  /** Takes back everything it holds, in hand-over order. */
  releaseAll(now: number): QueuedBatch[] {
    const all = [...this.since.keys()]
    this.since.clear()
    this.index.clear()
    this.idleSince = now
    return all
  }
}
