/**
 * The window stage, batches → window → socket: the adapter that runs the
 * in-flight window core (window.ts) on real time and real sockets. It waits
 * for room (and for `beforeBatch`), sends through the submit port, sweeps for
 * due batches on a timer, checks each result body against its batch, and
 * settles every batch that leaves the window into the tally (tally.ts).
 * Every wait here gives way to the interrupt signal at once.
 */
import { errorMessage, SendError } from '../errors.js'
import { RateLimitedLog, type Logger } from '../log.js'
import type { CommandLine } from '../data/commands-file.js'
import type { RejectedHeader, ResultHeader } from '../protocol/types.js'
import { unlessAborted } from '../util/abortable.js'
import { background } from '../util/background.js'
import type { Clock } from '../util/clock.js'
import type { Batch } from './batcher.js'
import { answeredRecords, lostRecords, type CommandRecord } from './records.js'
import { parseOutcomes } from './results.js'
import type { ResultsHandler } from './results-port.js'
import type { SubmitPort } from './submit-port.js'
import type { ResultTally } from './tally.js'
import type { InFlightWindow, Lost, ResendWhy } from './window.js'

export interface DispatcherOptions {
  readonly window: InFlightWindow<Batch>
  readonly tally: ResultTally
  readonly submit: Pick<SubmitPort, 'send' | 'withdraw'>
  readonly clock: Clock
  /** Aborted by `Client.interrupt()`: the window is interrupted and every wait here ends. */
  readonly signal: AbortSignal
  readonly logger: Logger
  readonly maxMessageBytes: number
  /** Sets how often the window is swept for due batches. */
  readonly resultTimeoutMs: number
  readonly beforeBatch?: () => Promise<void> | undefined
  /** Every command of a batch that settled, for batches that kept their commands. */
  readonly onRecords: (records: CommandRecord[]) => void
  readonly onResend: (resend: { id: string; attempt: number; why: ResendWhy }) => void
}

const ignore = (): void => undefined

export class Dispatcher implements ResultsHandler {
  private firstSendError: string | undefined
  private readonly waiters = new Set<() => void>()
  private readonly sweeper: NodeJS.Timeout
  /** Per-batch lines (rejections, batches lost) and malformed bodies, which a gateway's answers could otherwise flood. */
  private readonly batchLog: RateLimitedLog
  private readonly malformedLog: RateLimitedLog
  /** When each batch that keeps its records was last sent, for the round trip its records give as `ms`. */
  private readonly sentAt = new Map<number, number>()
  /** The signal means an interrupt, whoever told the window first. */
  private readonly onAbort = (): void => {
    this.o.window.interrupt()
    this.notify()
  }

  constructor(private readonly o: DispatcherOptions) {
    this.batchLog = new RateLimitedLog(o.logger)
    this.malformedLog = new RateLimitedLog(o.logger)
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(1000, o.resultTimeoutMs / 4)))
    if (o.signal.aborted) o.window.interrupt()
    else o.signal.addEventListener('abort', this.onAbort, { once: true })
  }

  /** The first send failure, naming the endpoint, once sending has stopped. */
  get sendError(): string | undefined {
    return this.firstSendError
  }

  /**
   * Takes the next batch: waits for `beforeBatch` and for room in the window,
   * then sends it and resolves once ZeroMQ took it (the socket's back-pressure
   * holds the reading back). A batch that cannot be sent any more is settled
   * as lost instead. Never rejects but for a throwing `records` listener.
   */
  async admit(batch: Batch): Promise<void> {
    const hold = this.o.beforeBatch?.()
    // Ctrl+C must not wait for a consumer that may never catch up (a stalled pipe).
    if (hold !== undefined) await unlessAborted(hold.then(ignore, ignore), this.o.signal)
    const window = this.o.window
    await this.until(() => window.hasRoom || window.interrupted)
    const opened = window.open(batch)
    if (opened.type === 'lost') return this.settleLost(opened)
    await this.send(batch, opened.attempt)
  }

  /** Resolves once every batch in flight has settled, or at an interrupt. */
  drained(): Promise<void> {
    return this.until(() => this.o.window.size === 0 || this.o.window.interrupted)
  }

  /**
   * After an interrupt: resolves once every batch in flight has settled (its
   * result came, code 4 for what the gateways cancelled, or it was rejected
   * or its send failed), or after `ms`, whichever is first. Nothing is resent
   * meanwhile; {@link close} then counts what is still out as interrupted.
   */
  async settledWithin(ms: number): Promise<void> {
    const window = this.o.window
    if (window.size === 0 || !(ms > 0)) return
    let over = false
    const timer = setTimeout(() => {
      over = true
      this.notify()
    }, ms)
    try {
      while (!over && window.size > 0) await new Promise<void>((resolve) => this.waiters.add(resolve))
    } finally {
      clearTimeout(timer)
    }
  }

  result(seq: number, header: ResultHeader, body: Buffer | undefined): void {
    const batch = this.o.window.batch(seq)
    if (batch === undefined) return this.o.tally.recordStray(seq)
    const outcomes = parseOutcomes(body, batch.size, this.o.maxMessageBytes)
    if (typeof outcomes === 'string') {
      // Leave it in flight: a resend after the result timeout can still get a good answer.
      return this.malformedLog.warn({ id: header.id, worker: header.worker, reason: outcomes }, 'malformed result dropped')
    }
    const settled = this.o.window.answered(seq)!
    if (settled.withdraw) this.o.submit.withdraw(seq)
    this.o.tally.recordOutcomes(seq, outcomes)
    const sentAt = this.sentAt.get(seq)
    this.settled(batch, (commands) => {
      const now = this.o.clock()
      return answeredRecords(commands, outcomes, { worker: header.worker, roundTripMs: sentAt === undefined ? 0 : now - sentAt })
    })
  }

  rejected(seq: number, header: RejectedHeader): void {
    const step = this.o.window.rejected(seq, header, this.o.clock())
    if (step === undefined) return
    if (step.type === 'retry') return this.batchLog.info({ id: header.id, reason: header.reason }, 'batch rejected; will resend')
    this.batchLog.warn({ id: header.id, reason: header.reason }, 'batch rejected')
    this.settleLost(step)
  }

  /** Stops the sweeps; after an interrupt, settles what is still out as interrupted. */
  close(): void {
    clearInterval(this.sweeper)
    this.o.signal.removeEventListener('abort', this.onAbort)
    try {
      if (this.o.window.interrupted) for (const lost of this.o.window.drain()) this.settleLost(lost)
    } finally {
      this.batchLog.flush()
      this.malformedLog.flush()
      this.notify()
    }
  }

  /** Never rejects: a send that fails settles its batch (unless an earlier copy already did). */
  private async send(batch: Batch, attempt: number): Promise<void> {
    const timed = batch.commands !== undefined
    // Until it has left, the queueing time stands in; a resend keeps the time of the send before it.
    if (timed && !this.sentAt.has(batch.seq)) this.sentAt.set(batch.seq, this.o.clock())
    try {
      await this.o.submit.send(batch, attempt)
      // The result timeout runs from when the batch left, not from when it queued for the socket.
      const now = this.o.clock()
      this.o.window.sent(batch.seq, now)
      if (timed && this.o.window.batch(batch.seq) !== undefined) this.sentAt.set(batch.seq, now)
    } catch (error) {
      const lost = this.o.window.sendFailed(batch.seq)
      if (lost === undefined) return
      if (lost.loss.cause === 'unsent') this.stopSending(error)
      this.settleLost(lost)
    }
  }

  private sweep(): void {
    for (const step of this.o.window.due(this.o.clock())) {
      // A throwing listener must neither end the process (this is a timer) nor strand the other steps.
      try {
        if (step.type === 'resend') {
          this.o.logger.debug({ id: step.batch.id, attempt: step.attempt, why: step.why }, 'resending')
          background(this.send(step.batch, step.attempt), this.o.logger, `resend of batch ${step.batch.id}`)
          this.o.onResend({ id: step.batch.id, attempt: step.attempt, why: step.why })
        } else {
          this.batchLog.warn({ id: step.batch.id, attempts: step.attempts }, 'no result after every resend; batch lost')
          this.settleLost(step)
        }
      } catch (error) {
        this.o.logger.error({ err: errorMessage(error) }, 'a client event listener threw')
      }
    }
  }

  private stopSending(error: unknown): void {
    if (this.firstSendError !== undefined) return
    this.firstSendError = error instanceof SendError ? error.message : errorMessage(error)
    this.o.logger.error({ err: this.firstSendError }, 'sending stopped; waiting for batches already sent')
  }

  private settleLost(lost: Lost<Batch>): void {
    if (lost.withdraw) this.o.submit.withdraw(lost.batch.seq)
    this.o.tally.recordLost(lost.batch.seq, lost.batch.size, lost.loss)
    this.settled(lost.batch, (commands) => lostRecords(commands, lost.loss))
  }

  /** The tally is already up to date: a throwing listener leaves the counts right. */
  private settled(batch: Batch, records: (commands: readonly CommandLine[]) => CommandRecord[]): void {
    this.sentAt.delete(batch.seq)
    this.notify()
    if (batch.commands !== undefined) this.o.onRecords(records(batch.commands))
  }

  private async until(ready: () => boolean): Promise<void> {
    while (!ready() && !this.o.signal.aborted) await new Promise<void>((resolve) => this.waiters.add(resolve))
  }

  private notify(): void {
    if (this.waiters.size === 0) return
    const waiting = [...this.waiters]
    this.waiters.clear()
    for (const wake of waiting) wake()
  }
}
