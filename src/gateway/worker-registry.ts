/**
 * The workers connected to the gateway: sessions by routing key and by CGP/1
 * id, dispatch credit (round-robin, first free), who may join, and whether
 * each one is still alive and not sitting on a batch. Pure: every call that
 * needs time takes `now`.
 */
import { Liveness } from '../protocol/liveness.js'
import { CreditRing } from './credit-ring.js'
import type { Credit } from './ledger.js'
import { WorkerSession } from './worker-session.js'

export interface WorkerRegistryOptions {
  /** Most workers connected at once; a `ready` beyond it is refused. */
  readonly maxConnectedWorkers: number
  /** Most batches one worker may hold, whatever its `ready` declares. */
  readonly maxWorkerCapacity: number
  readonly heartbeatIntervalMs: number
  /** Silent intervals after which a worker is lost. */
  readonly heartbeatLiveness: number
  /** A batch held longer than this costs its worker its place, in milliseconds; 0 for no limit. */
  readonly holdTimeoutMs: number
}

/** What a `ready` led to. */
export type ReadyOutcome =
  /** A new session, in the registry and offered credit. */
  | { readonly kind: 'joined'; readonly worker: WorkerSession; readonly capacity: number }
  /**
   * The connection was registered already: a new session on it. Its capacity
   * is updated; the caller takes back what it held, then offers it credit.
   */
  | { readonly kind: 'again'; readonly worker: WorkerSession; readonly capacity: number }
  /** Its id belongs to another live connection, or too many workers are connected. */
  | { readonly kind: 'refused'; readonly reason: 'id-in-use' | 'too-many-workers' }

/** What a worker needs now, by {@link WorkerRegistry.check}. */
export type Checkup = 'ok' | 'heartbeat-due' | 'lost:heartbeat' | 'lost:hold-timeout'

export class WorkerRegistry implements Credit<WorkerSession> {
  /** Connected workers by routing key (the ROUTER's, so no peer can pick another's). */
  private readonly byKey = new Map<string, WorkerSession>()
  /** The same workers by their CGP/1 id: a `ready` claiming a live worker's id is refused. */
  private readonly byId = new Map<string, WorkerSession>()
  private readonly credit = new CreditRing<WorkerSession>()

  constructor(private readonly options: WorkerRegistryOptions) {}

  get size(): number {
    return this.byKey.size
  }

  /** The session of a connection, if it is registered. */
  get(key: string): WorkerSession | undefined {
    return this.byKey.get(key)
  }

  /** The session holding a CGP/1 worker id, if any. */
  byWorkerId(id: string): WorkerSession | undefined {
    return this.byId.get(id)
  }

  /** Whether `worker` is still the registered session of its connection. */
  isCurrent(worker: WorkerSession): boolean {
    return this.byKey.get(worker.key) === worker
  }

  /** Every session, in join order. Forgetting one while iterating is safe. */
  sessions(): IterableIterator<WorkerSession> {
    return this.byKey.values()
  }

  /**
   * A `ready` on connection `key` declaring `declared` batches; the capacity
   * granted is capped at `maxWorkerCapacity`. On a registered connection it
   * starts a new session. Otherwise the worker joins, unless its id belongs
   * to another live connection or `maxConnectedWorkers` are connected.
   */
  ready(key: string, identity: Buffer, id: string, declared: number, forked: boolean, now: number): ReadyOutcome {
    const capacity = Math.min(declared, this.options.maxWorkerCapacity)
    const existing = this.byKey.get(key)
    if (existing !== undefined) {
      existing.capacity = capacity
      existing.liveness.heard(now)
      return { kind: 'again', worker: existing, capacity }
    }
    if (this.byId.has(id)) return { kind: 'refused', reason: 'id-in-use' }
    if (this.byKey.size >= this.options.maxConnectedWorkers) return { kind: 'refused', reason: 'too-many-workers' }
    const liveness = new Liveness(this.options.heartbeatIntervalMs, this.options.heartbeatLiveness, now)
    // Nothing was sent to it yet, and it counts its silence from when it connected:
    // its first heartbeat goes at the next tick, not an interval from now.
    liveness.sent(now - this.options.heartbeatIntervalMs)
    const worker = new WorkerSession(key, identity, id, capacity, forked, liveness, now)
    this.byKey.set(key, worker)
    this.byId.set(id, worker)
    this.credit.offer(worker)
    return { kind: 'joined', worker, capacity }
  }

  /** Anything arrived from `worker`. */
  heard(worker: WorkerSession, now: number): void {
    worker.liveness.heard(now)
  }

  /** Anything was sent to `worker`. */
  sent(worker: WorkerSession, now: number): void {
    worker.liveness.sent(now)
  }

  /**
   * Whether `worker` is lost (silent for `heartbeatLiveness` intervals, or
   * alive but holding a batch for more than `holdTimeoutMs`: a hung executor
   * or a hoarder), or is due a heartbeat (we sent it nothing for an interval).
   */
  check(worker: WorkerSession, now: number): Checkup {
    if (worker.liveness.isLost(now)) return 'lost:heartbeat'
    const oldest = worker.held.oldestSince
    const holdTimeoutMs = this.options.holdTimeoutMs
    if (holdTimeoutMs > 0 && oldest !== undefined && now - oldest > holdTimeoutMs) return 'lost:hold-timeout'
    return worker.liveness.heartbeatDue(now) ? 'heartbeat-due' : 'ok'
  }

  /** Takes a worker out of the registry and the credit turn: nothing more goes to it. */
  forget(worker: WorkerSession): void {
    worker.live = false
    if (this.byKey.get(worker.key) === worker) this.byKey.delete(worker.key)
    if (this.byId.get(worker.id) === worker) this.byId.delete(worker.id)
  }

  clear(): void {
    this.byKey.clear()
    this.byId.clear()
  }

  /** Whether some live worker has free capacity. */
  get hasCredit(): boolean {
    return this.credit.hasCredit
  }

  /**
   * The next worker in turn with free capacity that `accepts`, whatever
   * capacity each declared (serving the freest handed a rogue that declared
   * 1 000 000 every batch of the next client). Those passed over keep their turn.
   */
  take(accepts?: (worker: WorkerSession) => boolean): WorkerSession | undefined {
    return this.credit.take(accepts)
  }

  /** Puts `worker` back in turn, at the back, if it has free capacity and no turn yet. */
  offer(worker: WorkerSession): void {
    this.credit.offer(worker)
  }
}
