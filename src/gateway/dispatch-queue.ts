/**
 * The gateway's queue of batches waiting for a worker: fair between clients
 * (round-robin, one batch per client per turn, so a client with a million
 * commands queued cannot starve one with ten) and FIFO within a client. It is
 * bounded: when it is full the gateway stops reading its intake, so
 * back-pressure reaches the clients through ZeroMQ instead of growing memory
 * here.
 */
import { Deque } from '../util/deque.js'

/** A batch as the gateway holds it; `body` is the client's frame, forwarded untouched. */
export interface QueuedBatch {
  readonly id: string
  readonly client: string
  readonly replyTo: string
  /** The client's CURVE public key, forwarded to workers as the task's `replyKey`. */
  readonly replyKey?: string
  /** The attempt forwarded to workers: the client's, plus one per re-run here. */
  attempt: number
  /** Runs started in this gateway that count toward `maxAttempts`. */
  runs: number
  readonly body: Buffer
  readonly commands: number
  /** Whether it waits in the queue now. */
  queued: boolean
  /** Whether a second run of it waits for a worker other than those running it (`SecondRuns`). */
  secondRun: boolean
  /** Workers running it now: more than one while a client's resend runs beside the first run. */
  holders: number
  /** When it began to wait for a worker: taken in, requeued, or resent for a second run (the core's clock). */
  waitingSince: number
}

export class DispatchQueue {
  /** Each client's batches in arrival order. */
  private readonly byClient = new Map<string, Deque<QueuedBatch>>()
  /** Clients with queued batches, in the order they are served: one batch each, round-robin. */
  private readonly turns = new Deque<string>()
  private spaceWaiters: (() => void)[] = []
  private queuedBatches = 0
  private queuedBytes = 0
  /** Body bytes that workers hold: the byte bound covers everything the gateway keeps. */
  private heldBytes = 0

  constructor(
    /** Batches queued before intake pauses. */
    readonly limit: number,
    /** Body bytes queued before intake pauses, so 1000 batches of 16 MiB cannot take 16 GiB. */
    readonly byteLimit: number = Number.POSITIVE_INFINITY,
  ) {}

  get length(): number {
    return this.queuedBatches
  }

  /** Body bytes of the queued batches. */
  get bytes(): number {
    return this.queuedBytes
  }

  /** The `limit` clients with the most batches waiting, deepest first. */
  deepest(limit: number): { client: string; batches: number }[] {
    return [...this.byClient]
      .map(([client, queue]) => ({ client, batches: queue.length }))
      .sort((a, b) => b.batches - a.batches)
      .slice(0, limit)
  }

  /** Clients with batches waiting. */
  get clients(): number {
    return this.byClient.size
  }

  /** Body bytes of the batches workers hold. */
  get held(): number {
    return this.heldBytes
  }

  get isFull(): boolean {
    return this.queuedBatches >= this.limit || this.queuedBytes + this.heldBytes >= this.byteLimit
  }

  /** Counts `bytes` (negative: releases them) held by workers against the byte bound. */
  hold(bytes: number): void {
    this.heldBytes += bytes
    if (bytes < 0 && this.spaceWaiters.length > 0 && !this.isFull) this.wakeSpaceWaiters()
  }

  push(batch: QueuedBatch): void {
    this.queueOf(batch.client, 'last').push(batch)
    this.count(batch, 1)
  }



  /**
   * Puts batches back at the front of their clients' queues, keeping their
   * order, and those clients first in turn: they waited longest.
   */
  requeueFront(batches: readonly QueuedBatch[]): void {
    for (let i = batches.length - 1; i >= 0; i--) {
      const batch = batches[i]!
      this.queueOf(batch.client, 'first').unshift(batch)
      this.count(batch, 1)
    }
  }

  /** The next batch: the oldest of the client whose turn it is. */
  shift(): QueuedBatch | undefined {
    const client = this.turns.shift()
    if (client === undefined) return undefined
    const queue = this.byClient.get(client)!
    const batch = queue.shift()!
    if (queue.length > 0) this.turns.push(client)
    else this.byClient.delete(client)
    this.count(batch, -1)
    if (this.spaceWaiters.length > 0 && !this.isFull) this.wakeSpaceWaiters()
    return batch
  }

  /** Removes and returns the queued batches of one client. */
  removeClient(client: string): QueuedBatch[] {
    const queue = this.byClient.get(client)
    if (queue === undefined) return []
    this.byClient.delete(client)
    this.turns.removeWhere((c) => c === client)
    const removed = queue.drain()
    for (const batch of removed) this.count(batch, -1)
    this.wakeSpaceWaiters()
    return removed
  }

  /** Removes and returns everything, in turn order. */
  drain(): QueuedBatch[] {
    const all: QueuedBatch[] = []
    for (let batch = this.shift(); batch !== undefined; batch = this.shift()) all.push(batch)
    this.wakeSpaceWaiters()
    return all
  }

  private queueOf(client: string, turn: 'first' | 'last'): Deque<QueuedBatch> {
    let queue = this.byClient.get(client)
    if (queue === undefined) {
      queue = new Deque<QueuedBatch>()
      this.byClient.set(client, queue)
      if (turn === 'first') this.turns.unshift(client)
      else this.turns.push(client)
    } else if (turn === 'first' && this.turns.peek() !== client) {
      this.turns.removeWhere((c) => c === client)
      this.turns.unshift(client)
    }
    return queue
  }

  private count(batch: QueuedBatch, sign: 1 | -1): void {
    batch.queued = sign === 1
    this.queuedBatches += sign
    this.queuedBytes += sign * batch.body.length
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
