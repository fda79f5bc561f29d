/**
 * Sends a settled batch's result to its client and its `done` to the
 * gateway. The result goes on the reply-socket cache's PUSH for the batch's
 * `replyTo`; `done` follows once the result is queued there (the contract:
 * queued, not delivered). A result the client does not accept is dropped,
 * counted and logged at a bounded rate; the client's resend recovers it.
 * No socket of its own: both ends are ports, so tests drive it by hand.
 */
import { errorMessage } from '../errors.js'
import { outcomesBody, resultFrame, type DoneReport } from '../protocol/frames.js'
import { ResultCode, type CommandOutcome, type TaskHeader } from '../protocol/types.js'

/** Where results go: one PUSH per client endpoint (`ReplySockets`). */
export interface ReplyPort {
  /** Resolves once the client's socket accepted the message; rejects when it gave up. Over CURVE when `serverKey` (the task's `replyKey`) is given. */
  send(endpoint: string, frames: Buffer[], serverKey?: string): Promise<void>
}

/** Sends `done` (with `report`: its counts, run time and states) to the gateway, unless `session` is no longer the current one. Never rejects. */
export type DonePort = (id: string, client: string, session: number, report?: DoneReport) => Promise<void>

/** What the delivery needs of a settled batch. */
export interface SettledBatch {
  readonly header: TaskHeader
  readonly session: number
  outcomes: CommandOutcome[]
}

/** Where dropped results are logged; the worker passes a rate-limited log, so a flood of them stays a few lines. */
export interface WarnSink {
  warn(fields: Record<string, unknown>, message: string): void
}

export interface ResultDeliveryOptions {
  readonly workerId: string
  /** Batches held at once; bounds how many results may wait for delivery after their `done`. */
  readonly capacity: number
  readonly replies: ReplyPort
  readonly done: DonePort
  readonly droppedLog: WarnSink
  /** Where dropped results are counted (the worker's stats). */
  readonly counters: { resultsDropped: number }
}

/** Results that may wait for delivery after their `done`, per unit of capacity. */
export const UNDELIVERED_PER_SLOT = 4

export class ResultDelivery {
  /** Results queued for a client and not yet delivered or given up. */
  private undelivered = 0

  constructor(private readonly options: ResultDeliveryOptions) {}

  /** Results waiting for their client to accept them. */
  get waiting(): number {
    return this.undelivered
  }

  /**
   * Encodes the result, sends it and `done` (carrying `report`). Resolves
   * with whether the client accepted it, once it did or was given up; never
   * rejects. The batch's outcomes are released as soon as the body is encoded.
   */
  async deliver(batch: SettledBatch, report?: DoneReport): Promise<boolean> {
    const { id, client, replyTo, attempt, replyKey } = batch.header
    const body = encodeOutcomes(batch.outcomes)
    batch.outcomes = []
    const delivery = this.options.replies.send(replyTo, [resultFrame(id, client, this.options.workerId, attempt), body], replyKey)
    // `done` once the result is queued, not delivered: a vanished client's result takes
    // its 4 send attempts (4 s) to be given up, and 30 vanished clients a second would
    // otherwise hold every slot and stall everyone else (npm run chaos, C5: ~120 at
    // once). Up to 4 × `capacity` results wait like that, each its encoded body alone,
    // so what a worker holds stays bounded; beyond it `done` waits for the delivery.
    const early = this.undelivered < UNDELIVERED_PER_SLOT * this.options.capacity
    if (early) void this.options.done(id, client, batch.session, report)
    this.undelivered++
    let delivered = true
    try {
      await delivery
    } catch (error) {
      delivered = false
      this.options.counters.resultsDropped++
      // A replyKey is a public key: naming it says which CURVE server did not take the result.
      this.options.droppedLog.warn({ id, client, replyTo, ...(replyKey === undefined ? {} : { replyKey }), err: errorMessage(error) }, 'result dropped: the client did not accept it')
    } finally {
      this.undelivered--
    }
    if (!early) await this.options.done(id, client, batch.session, report)
    return delivered
  }
}

/**
 * The result body. An executor may have returned something MessagePack cannot
 * carry: that command is reported as failed (code 2), not the batch lost.
 */
export function encodeOutcomes(outcomes: readonly CommandOutcome[]): Buffer {
  try {
    return outcomesBody(outcomes)
  } catch (error) {
    const message = `response not encodable: ${errorMessage(error)}`
    return outcomesBody(outcomes.map((o): CommandOutcome => (o[0] === ResultCode.Ok ? [ResultCode.Failed, message] : o)))
  }
}
