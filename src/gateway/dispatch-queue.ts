/**
 * The gateway's FIFO of batches waiting for a worker. It is bounded: when it
 * is full the gateway stops reading its intake, so back-pressure reaches the
 * clients through ZeroMQ instead of growing memory here.
 */
import { Deque } from '../util/deque.js'

/** A batch as the gateway holds it; `body` is the client's frame, forwarded untouched. */
export interface QueuedBatch {
  readonly id: string
  readonly client: string
  readonly replyTo: string
  /** The attempt forwarded to workers: the client's, plus one per re-run here. */
  attempt: number
  /** Runs started in this gateway; bounded by `maxAttempts`. */
  runs: number
  readonly body: Buffer
  readonly commands: number
}

export class DispatchQueue {
  private readonly items = new Deque<QueuedBatch>(1024)
  private spaceWaiters: (() => void)[] = []
  private queuedBytes = 0

  constructor(
    /** Batches queued before intake pauses. */
    readonly limit: number,
    /** Body bytes queued before intake pauses, so 1000 batches of 16 MiB cannot take 16 GiB. */
    readonly byteLimit: number = Number.POSITIVE_INFINITY,
  ) {}

  get length(): number {
    return this.items.length
  }

  /** Body bytes of the queued batches. */
  get bytes(): number {
    return this.queuedBytes
  }

  get isFull(): boolean {
    return this.items.length >= this.limit || this.queuedBytes >= this.byteLimit
  }

  push(batch: QueuedBatch): void {
    this.items.push(batch)
    this.queuedBytes += batch.body.length
  }

  /** Puts batches back at the front, keeping their order: they waited longest. */
  requeueFront(batches: readonly QueuedBatch[]): void {
    for (let i = batches.length - 1; i >= 0; i--) {
      this.items.unshift(batches[i]!)
      this.queuedBytes += batches[i]!.body.length
    }
  }

  shift(): QueuedBatch | undefined {
    const batch = this.items.shift()
    if (batch === undefined) return undefined
    this.queuedBytes -= batch.body.length
    if (this.spaceWaiters.length > 0 && !this.isFull) this.wakeSpaceWaiters()
    return batch
  }

  /** Removes and returns the queued batches of one client. */
  removeClient(client: string): QueuedBatch[] {
    const removed = this.items.removeWhere((batch) => batch.client === client)
    for (const batch of removed) this.queuedBytes -= batch.body.length
    if (removed.length > 0) this.wakeSpaceWaiters()
    return removed
  }

  /** Removes and returns everything. */
  drain(): QueuedBatch[] {
    const all = this.items.drain()
    this.queuedBytes = 0
    this.wakeSpaceWaiters()
    return all
  }

  /** Resolves when the queue is below its limit. */
  whenNotFull(): Promise<void> {
    if (!this.isFull) return Promise.resolve()
    return new Promise((resolve) => this.spaceWaiters.push(resolve))
  }

  private wakeSpaceWaiters(): void {
    const waiters = this.spaceWaiters
    this.spaceWaiters = []
    for (const resolve of waiters) resolve()
  }
}
