/**
 * The client's in-flight window, a pure core: which batches are out, when
 * each is due, and what to do then. It owns no socket and no timer and never
 * reads the clock; every call that decides by time takes `now`. Its adapter
 * (dispatcher.ts) does the sending and the waiting, and passes the window's
 * answers on to the tally.
 *
 * A batch's life here: `open` (its first send is queued) → `sent` (it left;
 * the result deadline starts) → `answered`, `rejected`, or `due` once the
 * deadline passes, which either orders a resend (back to sending) or gives the
 * batch up. While one of its sends is queued a batch has no deadline at all,
 * so a send still inside its retries is never also resent or given up: it is
 * counted once, as whatever its send comes to.
 */
import type { Loss } from './tally.js'

/** The numbers the window decides by. */
export interface WindowPolicy {
  /** Batches in flight at once. */
  readonly window: number
  /** A batch sent this long ago without a result is due, in milliseconds. */
  readonly resultTimeoutMs: number
  /** A batch rejected as retryable is due again after this long, in milliseconds. */
  readonly retryDelayMs: number
  /** Resends of one batch (after a timeout or a retryable rejection) before it is lost. */
  readonly maxResends: number
}

/** What the window needs of a batch. */
export interface WindowBatch {
  readonly seq: number
  /** Commands in the batch. */
  readonly size: number
}

/** Why a batch is sent again. */
export type ResendWhy = 'timeout' | 'rejected'

/**
 * A batch that left the window. `withdraw`: a copy of it still waits in the
 * send queue and should be taken back, so it holds no place in the bounded
 * backlog and never goes out.
 */
export interface Settled<B> {
  readonly batch: B
  readonly withdraw: boolean
}

/** A batch that left the window without a result. */
export interface Lost<B> extends Settled<B> {
  readonly type: 'lost'
  readonly loss: Loss
  /** Attempts made (0 when it was never sent). */
  readonly attempts: number
}

/** What `due()` orders for one batch: send it again with `attempt`, or count it lost. */
export type DueStep<B> = { readonly type: 'resend'; readonly batch: B; readonly attempt: number; readonly why: ResendWhy } | Lost<B>

interface Entry<B> {
  readonly batch: B
  attempt: number
  resends: number
  /** When the batch is due; meaningless while `sending`. */
  deadline: number
  /** What the next resend answers: a result timeout, or a retryable rejection. */
  nextResend: ResendWhy
  /** One of its sends is queued or in its retries. */
  sending: boolean
  /** One of its sends left: its commands count in {@link InFlightWindow.sentCommands}. */
  everSent: boolean
}

/**
 * @example
 * const window = new InFlightWindow({ window: 256, resultTimeoutMs: 30_000, retryDelayMs: 1000, maxResends: 3 })
 * window.open(batch)            // { type: 'send', attempt: 1 }
 * window.sent(batch.seq, now)   // its deadline is now + 30 s
 * window.due(now + 30_000)      // [{ type: 'resend', batch, attempt: 2, why: 'timeout' }]
 */
export class InFlightWindow<B extends WindowBatch> {
  private readonly entries = new Map<number, Entry<B>>()
  private commandsOut = 0
  private commandsSent = 0
  private resendCount = 0
  private stoppedSending = false
  private wasInterrupted = false

  constructor(private readonly policy: WindowPolicy) {}

  /** Batches in flight. */
  get size(): number {
    return this.entries.size
  }

  /** Commands in the batches in flight. */
  get commands(): number {
    return this.commandsOut
  }

  /**
   * Commands of the batches that left at least once (handed to the socket);
   * a resend does not count them again, and a batch that never left (its
   * send failed, or it was given up while queued) never counts.
   */
  get sentCommands(): number {
    return this.commandsSent
  }

  /** Whether another batch may be opened. */
  get hasRoom(): boolean {
    return this.entries.size < this.policy.window
  }

  /** Resends ordered so far. */
  get resends(): number {
    return this.resendCount
  }

  /** A send failed for good: nothing more is sent or resent, and what is out may still be answered. */
  get sendingStopped(): boolean {
    return this.stoppedSending
  }

  get interrupted(): boolean {
    return this.wasInterrupted
  }

  /** The batch `seq` while it is in flight. */
  batch(seq: number): B | undefined {
    return this.entries.get(seq)?.batch
  }

  /**
   * Takes a batch in, its first send to be queued now; once sending has
   * stopped, or after an interrupt, the batch is lost at once instead (unsent,
   * interrupted). Call only when {@link hasRoom} (or after an interrupt).
   */
  open(batch: B): { readonly type: 'send'; readonly attempt: 1 } | Lost<B> {
    if (this.wasInterrupted) return { type: 'lost', batch, loss: { cause: 'interrupted' }, attempts: 0, withdraw: false }
    if (this.stoppedSending) return { type: 'lost', batch, loss: { cause: 'unsent' }, attempts: 0, withdraw: false }
    if (!this.hasRoom) throw new RangeError(`the window of ${this.policy.window} batches is full`)
    if (this.entries.has(batch.seq)) throw new RangeError(`batch ${batch.seq} is already in flight`)
    this.entries.set(batch.seq, { batch, attempt: 1, resends: 0, deadline: 0, nextResend: 'timeout', sending: true, everSent: false })
    this.commandsOut += batch.size
    return { type: 'send', attempt: 1 }
  }

  /** The queued send of `seq` left at `now`: its result is due one result timeout later. */
  sent(seq: number, now: number): void {
    const entry = this.entries.get(seq)
    // Settled meanwhile: its withdrawn copy resolves like a sent one.
    if (entry === undefined || !entry.sending) return
    entry.sending = false
    entry.deadline = now + this.policy.resultTimeoutMs
    this.markSent(entry)
  }

  /**
   * The queued send of `seq` never left (its retries ran out, or the sender
   * closed). The batch is lost as unsent, which stops all sending, or as
   * interrupted after an interrupt; `undefined` if it had settled already
   * (an earlier copy was answered), since this copy's failure says nothing.
   */
  sendFailed(seq: number): Lost<B> | undefined {
    const entry = this.entries.get(seq)
    if (entry === undefined) return undefined
    this.remove(entry)
    if (this.wasInterrupted) return { type: 'lost', batch: entry.batch, loss: { cause: 'interrupted' }, attempts: entry.attempt, withdraw: false }
    this.stoppedSending = true
    return { type: 'lost', batch: entry.batch, loss: { cause: 'unsent' }, attempts: entry.attempt, withdraw: false }
  }

  /**
   * Every batch whose deadline has passed at `now`, with what to do: resend
   * it (its send is then queued, so it has no deadline until {@link sent}), or
   * give it up as `noResult` once it has had `maxResends` resends or sending
   * has stopped. Nothing is due after an interrupt.
   */
  due(now: number): DueStep<B>[] {
    const steps: DueStep<B>[] = []
    if (this.wasInterrupted) return steps
    for (const entry of this.entries.values()) {
      if (entry.sending || entry.deadline > now) continue
      if (entry.resends < this.policy.maxResends && !this.stoppedSending) {
        const why = entry.nextResend
        entry.nextResend = 'timeout'
        entry.resends++
        entry.attempt++
        entry.sending = true
        this.resendCount++
        steps.push({ type: 'resend', batch: entry.batch, attempt: entry.attempt, why })
      } else {
        this.remove(entry)
        steps.push({ type: 'lost', batch: entry.batch, loss: { cause: 'noResult' }, attempts: entry.attempt, withdraw: false })
      }
    }
    return steps
  }

  /** A usable result for `seq` arrived: the batch leaves the window. `undefined` if it is not in flight. */
  answered(seq: number): Settled<B> | undefined {
    const entry = this.entries.get(seq)
    if (entry === undefined) return undefined
    // An answer proves a copy left, even one whose send() had not resolved yet.
    this.markSent(entry)
    this.remove(entry)
    return { batch: entry.batch, withdraw: entry.sending }
  }

  /**
   * A gateway rejected `seq`. A retryable rejection with resends left (and
   * sending still on) makes it due again one retry delay from `now`, not at
   * once: the gateway just said "not now". While a resend of it is already
   * queued, that resend is the retry and nothing changes. Any other rejection
   * loses the batch. `undefined` if it is not in flight.
   */
  rejected(seq: number, rejection: { readonly retryable: boolean; readonly reason: string }, now: number): { readonly type: 'retry' } | Lost<B> | undefined {
    const entry = this.entries.get(seq)
    if (entry === undefined) return undefined
    this.markSent(entry)
    if (rejection.retryable && entry.resends < this.policy.maxResends && !this.wasInterrupted && !this.stoppedSending) {
      if (!entry.sending) {
        entry.deadline = now + this.policy.retryDelayMs
        entry.nextResend = 'rejected'
      }
      return { type: 'retry' }
    }
    this.remove(entry)
    return { type: 'lost', batch: entry.batch, loss: { cause: 'rejected', reason: rejection.reason }, attempts: entry.attempt, withdraw: entry.sending }
  }

  /** Ctrl+C: nothing more is opened, resent or retried; {@link drain} then gives up what is out. */
  interrupt(): void {
    this.wasInterrupted = true
  }

  /** Empties the window; every batch still out is lost as interrupted. */
  drain(): Lost<B>[] {
    const lost: Lost<B>[] = []
    for (const entry of [...this.entries.values()]) {
      this.remove(entry)
      lost.push({ type: 'lost', batch: entry.batch, loss: { cause: 'interrupted' }, attempts: entry.attempt, withdraw: entry.sending })
    }
    return lost
  }

  private markSent(entry: Entry<B>): void {
    if (entry.everSent) return
    entry.everSent = true
    this.commandsSent += entry.batch.size
  }

  private remove(entry: Entry<B>): void {
    this.entries.delete(entry.batch.seq)
    this.commandsOut -= entry.batch.size
  }
}
