/**
 * The batches one worker holds, by client and id, each with when it was
 * handed over. Every worker session carries one; only the {@link Ledger}
 * changes it, so a batch enters and leaves a worker in one place.
 */
import { BatchIndex } from './batch-index.js'
import type { QueuedBatch } from './dispatch-queue.js'

export class HeldBatches {
  private readonly index = new BatchIndex<QueuedBatch>()
  /** The same batches with their hand-over times; insertion order is hand-over order. */
  private readonly since = new Map<QueuedBatch, number>()
  /** When it last became empty-handed. */
  private emptySince: number

  constructor(now: number) {
    this.emptySince = now
  }

  get size(): number {
    return this.since.size
  }

  /** When the worker last became empty-handed (meaningful while it holds nothing). */
  get idleSince(): number {
    return this.emptySince
  }

  /** Whether it holds a batch of this client and id (any copy: an earlier run counts too). */
  has(client: string, id: string): boolean {
    return this.index.has(client, id)
  }

  /** Whether it holds any batch of `client` (its `abort` then sends it a `cancel`). */
  holdsClient(client: string): boolean {
    return this.index.hasClient(client)
  }

  /** The copy of this client's batch `id` it holds, if any. */
  get(client: string, id: string): QueuedBatch | undefined {
    return this.index.get(client, id)
  }

  /** When it was handed `batch` (the core's clock), if it holds it. */
  handedAt(batch: QueuedBatch): number | undefined {
    return this.since.get(batch)
  }

  /** When it was handed the batch it has held longest, if it holds any. */
  get oldestSince(): number | undefined {
    for (const at of this.since.values()) return at
    return undefined
  }

  /** @internal The ledger's. */
  add(batch: QueuedBatch, now: number): void {
    this.index.set(batch.client, batch.id, batch)
    this.since.set(batch, now)
  }

  /** @internal The ledger's: takes back the batch the worker reports `done`, if it holds it. */
  release(client: string, id: string, now: number): QueuedBatch | undefined {
    const batch = this.index.take(client, id)
    if (batch === undefined) return undefined
    this.since.delete(batch)
    if (this.since.size === 0) this.emptySince = now
    return batch
  }

  /** @internal The ledger's: takes back everything, in hand-over order. */
  releaseAll(now: number): QueuedBatch[] {
    const all = [...this.since.keys()]
    this.since.clear()
    this.index.clear()
    this.emptySince = now
    return all
  }
}
