/**
 * The gateway's ledger: every batch it has taken in and not yet let go, and
 * where each copy is: waiting in the fair queue, held by workers, or waiting
 * for a second run beside a worker that holds it. It owns the queue, the
 * index of batches inside, the second runs and every worker's
 * {@link HeldBatches}, so they cannot drift apart: a batch leaves in one place
 * ({@link Ledger.leave}). It also holds the policy of what happens to a batch
 * that a worker gives back: requeued at the front, or ended (rejected,
 * dropped). Pure: no sockets, no clock; every call that needs time takes `now`.
 */
import { Limits } from '../protocol/limits.js'
import type { TaskHeader } from '../protocol/types.js'
import { BatchIndex } from './batch-index.js'
import { DispatchQueue, type QueuedBatch } from './dispatch-queue.js'
import type { HeldBatches } from './held-batches.js'
import { SecondRuns } from './second-runs.js'

export type { QueuedBatch }

/** A worker as the ledger sees it: what it holds. */
export interface Holder {
  readonly held: HeldBatches
}

/** Workers with free capacity, in turn (the worker registry). */
export interface Credit<H extends Holder> {
  readonly hasCredit: boolean
  /** The next worker in turn with free capacity that `accepts`, out of the turn until {@link offer}ed again. */
  take(accepts: (worker: H) => boolean): H | undefined
  offer(worker: H): void
}

/** What became of a task the intake passed on. */
export type Admission =
  /** New: it waits in the queue. */
  | 'queued'
  /** A resend of a batch that is queued or will run anyway: nothing to do. */
  | 'duplicate'
  /** A resend of a batch a worker holds: a second run of it waits for another worker. */
  | 'speculative'

/**
 * Why a worker gives back what it holds. `lost`: it may have run them, which
 * counts toward `maxAttempts`, and they go out again with attempt + 1. `bye`:
 * a stopping worker takes nothing new, so it never ran them: nothing counts.
 * `new-session`: it said ready again, and tasks sent on the old connection may
 * never have arrived; the worker is at fault, not the batches, so no run
 * counts, but the attempt goes up (the worker sees a new delivery).
 */
export type GiveBackCause = 'lost' | 'bye' | 'new-session'

/** Why a batch that no worker runs any more must not run again. */
export type Ending = 'shutting-down' | 'aborted' | 'attempts-exhausted'

export interface GivenBack {
  /** Batches put back at the front of the queue. */
  readonly requeued: number
  /** Batches let go; the caller answers each (`aborted` ones silently). */
  readonly ended: readonly { readonly batch: QueuedBatch; readonly reason: Ending }[]
}

export interface LedgerOptions {
  /** Batches queued before the ledger is full. */
  readonly queueLimit: number
  /** Body bytes queued, held and waiting for second runs before it is full. */
  readonly queueBytes: number
  /** Runs a batch may take before it is rejected `attempts-exhausted`; also the most copies running at once. */
  readonly maxAttempts: number
}

export class Ledger {
  private readonly queue: DispatchQueue
  private readonly secondRuns: SecondRuns
  /** Every batch queued, held or waiting for a second run, by client and id: a resend is not queued twice. */
  private readonly inside = new BatchIndex<QueuedBatch>()
  private closing = false

  constructor(
    private readonly options: LedgerOptions,
    /** Whether a client's abort is still remembered: its batches must not run again. */
    private readonly isAborted: (client: string) => boolean = () => false,
  ) {
    this.queue = new DispatchQueue(options.queueLimit, options.queueBytes)
    this.secondRuns = new SecondRuns(this.queue)
  }

  /** Batches waiting in the queue. */
  get queued(): number {
    return this.queue.length
  }

  /** Second runs waiting for a worker that holds no copy of them. */
  get secondRunsWaiting(): number {
    return this.secondRuns.length
  }

  /** Whether anything waits for a worker: queued batches or second runs. */
  get waiting(): boolean {
    return this.queue.length > 0 || this.secondRuns.length > 0
  }

  /** Batches inside: queued, held or waiting for a second run. */
  get size(): number {
    return this.inside.size
  }

  /** Body bytes of the queued batches. */
  get queuedBytes(): number {
    return this.queue.bytes
  }

  /** Body bytes held by workers or waiting for second runs; they count against the byte bound too. */
  get heldBytes(): number {
    return this.queue.held
  }

  /** Clients with queued batches. */
  get clients(): number {
    return this.queue.clients
  }

  /** The `limit` clients with the most batches queued, deepest first. */
  deepest(limit: number): { client: string; batches: number }[] {
    return this.queue.deepest(limit)
  }

  /** Over the batch or byte bound: the intake must stop reading. */
  get isFull(): boolean {
    return this.queue.isFull
  }

  /** Resolves once the ledger is below its bounds. */
  whenNotFull(): Promise<void> {
    return this.queue.whenNotFull()
  }

  /** Where a batch is: undefined once it has left. */
  find(client: string, id: string): QueuedBatch | undefined {
    return this.inside.get(client, id)
  }

  /**
   * Takes in a validated task of `commands` commands. A resend of a batch
   * inside is not queued twice. Still queued (or already waiting for a second
   * run): it will run, so the resend is a duplicate. Held by a worker: that
   * worker may be a straggler (or a hoarder), so the batch runs again on
   * another worker beside it, as work queues do for stragglers; the first
   * result wins and the client drops the other. Runs going on at once stay
   * within `maxAttempts`.
   */
  admit(header: TaskHeader, body: Buffer, commands: number, now: number): Admission {
    const { id, client, replyTo, replyKey, attempt } = header
    const inside = this.inside.get(client, id)
    if (inside !== undefined) {
      if (inside.queued || inside.secondRun || inside.holders >= this.options.maxAttempts) return 'duplicate'
      inside.attempt = Math.max(inside.attempt, attempt)
      inside.waitingSince = now
      this.secondRuns.add(inside)
      return 'speculative'
    }
    // replyKey is always set (undefined without CURVE): one object shape for every batch.
    const batch: QueuedBatch = { id, client, replyTo, replyKey, attempt, runs: 0, body, commands, queued: false, secondRun: false, holders: 0, waitingSince: now }
    this.inside.set(client, id, batch)
    this.queue.push(batch)
    return 'queued'
  }

  /**
   * Hands waiting batches to workers with free credit, one batch per worker
   * per turn: second runs first, then the queue. A batch never goes to a
   * worker that holds a copy of the same client and id; a queued batch that
   * every free worker holds (an earlier run, finished elsewhere) waits aside
   * as a second run. Returns what went where, in order, for the caller to send.
   */
  dispatch<H extends Holder>(credit: Credit<H>, now: number): [H, QueuedBatch][] {
    const handed: [H, QueuedBatch][] = []
    const handTo = (worker: H, batch: QueuedBatch): void => {
      worker.held.add(batch, now)
      batch.holders++
      batch.runs++
      this.queue.hold(batch.body.length)
      credit.offer(worker)
      handed.push([worker, batch])
    }
    if (this.secondRuns.length > 0) {
      const place = (batch: QueuedBatch): boolean => {
        const worker = credit.take((w) => !w.held.has(batch.client, batch.id))
        if (worker !== undefined) handTo(worker, batch)
        return worker !== undefined
      }
      this.secondRuns.offer(place, () => credit.hasCredit)
    }
    while (this.queue.length > 0 && credit.hasCredit) {
      const batch = this.queue.shift()!
      const worker = credit.take((w) => !w.held.has(batch.client, batch.id))
      if (worker === undefined) this.secondRuns.add(batch)
      else handTo(worker, batch)
    }
    return handed
  }

  /**
   * A worker reports a batch `done`. `completed`: the first run to finish,
   * the batch leaves. `freed`: a later copy (a second run, or the first run
   * after its second run won); only the worker is freed. Undefined: it held
   * no such batch (not its batch, or from before its latest ready).
   */
  done(worker: Holder, client: string, id: string, now: number): 'completed' | 'freed' | undefined {
    const batch = worker.held.release(client, id, now)
    if (batch === undefined) return undefined
    this.gaveBack(batch)
    if (this.inside.get(client, id) !== batch) return 'freed'
    this.leave(batch)
    return 'completed'
  }

  /**
   * Takes back everything `worker` holds (see {@link GiveBackCause}). A batch
   * that finished elsewhere, or still runs or waits elsewhere, is let be. One
   * that must not run again ends: at shutdown, after its client's abort, or
   * once a `lost` has used up its `maxAttempts` runs, so a poison batch that
   * kills every worker it meets still ends. The others go back to the front of
   * their clients' queues, in hand-over order.
   */
  giveBack(worker: Holder, cause: GiveBackCause, now: number): GivenBack {
    const counted = cause === 'lost'
    const back: QueuedBatch[] = []
    const ended: { batch: QueuedBatch; reason: Ending }[] = []
    for (const batch of worker.held.releaseAll(now)) {
      this.gaveBack(batch)
      if (!counted) batch.runs--
      if (this.inside.get(batch.client, batch.id) !== batch || batch.holders > 0) continue
      const ending = this.endingFor(batch, counted)
      if (ending !== undefined) {
        this.leave(batch)
        ended.push({ batch, reason: ending })
        continue
      }
      // Capped: a worker refuses a header whose attempt is beyond the protocol's bound.
      if (cause !== 'bye') batch.attempt = Math.min(batch.attempt + 1, Limits.maxCounter)
      // A second run already waiting is now its only run; it stays where it waits.
      if (batch.secondRun) continue
      batch.waitingSince = now
      back.push(batch)
    }
    this.queue.requeueFront(back)
    return { requeued: back.length, ended }
  }

  /**
   * Drops the batches of `client` that no worker runs (queued, or waiting for
   * a second run) and returns how many left. A batch still running stays
   * inside until that run ends.
   */
  dropClient(client: string): number {
    const dropped = [...this.queue.removeClient(client), ...this.secondRuns.withdrawWhere((b) => b.client === client)]
    let left = 0
    for (const batch of dropped) {
      if (batch.holders > 0) continue
      this.leave(batch)
      left++
    }
    return left
  }

  /**
   * Shutdown: everything waiting leaves and is returned, to be answered
   * `shutting-down`; from now on every batch a worker gives back ends the
   * same way. A batch also running on a worker is answered by that run.
   */
  close(): QueuedBatch[] {
    this.closing = true
    const out: QueuedBatch[] = []
    for (const batch of [...this.queue.drain(), ...this.secondRuns.withdrawWhere(() => true)]) {
      if (batch.holders > 0) continue
      this.leave(batch)
      out.push(batch)
    }
    return out
  }

  private endingFor(batch: QueuedBatch, counted: boolean): Ending | undefined {
    if (this.closing) return 'shutting-down'
    // Its client has gone; running it again would answer nobody.
    if (this.isAborted(batch.client)) return 'aborted'
    if (counted && batch.runs >= this.options.maxAttempts) return 'attempts-exhausted'
    return undefined
  }

  /** A worker no longer runs this copy of `batch`. */
  private gaveBack(batch: QueuedBatch): void {
    batch.holders--
    this.queue.hold(-batch.body.length)
  }

  /** The one place a batch leaves the gateway (it must be out of the queue already). */
  private leave(batch: QueuedBatch): void {
    this.inside.take(batch.client, batch.id)
    this.secondRuns.withdraw(batch)
  }
}
