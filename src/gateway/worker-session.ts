/**
 * One worker connected to the gateway's worker port. The registry key is the
 * connection's ZeroMQ routing id, which the ROUTER assigns (workers set none),
 * so no peer can take over another's connection; the CGP/1 `worker` id is what
 * the status view shows.
 */
import type { Liveness } from '../protocol/liveness.js'
import type { CreditHolder } from './credit-ring.js'
import { HeldBatches } from './held-batches.js'
import type { WorkerStatus } from './status.js'
import type { Holder } from './ledger.js'

export class WorkerSession implements CreditHolder, Holder {
  /** What it holds; the ledger's to change. */
  readonly held: HeldBatches
  live = true
  inRing = false
  /** Batches it finished since it joined. */
  served = 0

  constructor(
    /** The routing id as a map key. */
    readonly key: string,
    readonly identity: Buffer,
    /** Its CGP/1 `worker` id. */
    readonly id: string,
    /** Batches it may hold: what it declared, capped by the gateway. */
    public capacity: number,
    /** One of the gateway's own forked processes (its id is the pool's, unguessable). */
    readonly forked: boolean,
    /** Heard on any message from it, sent on any message to it. */
    readonly liveness: Liveness,
    now: number,
  ) {
    this.held = new HeldBatches(now)
  }

  get holding(): number {
    return this.held.size
  }

  get free(): number {
    return this.capacity - this.held.size
  }

  /** When it last became empty-handed. */
  get idleSince(): number {
    return this.held.idleSince
  }

  /** Its row of the status view; `pid` is its process's, for a forked one. */
  status(now: number, pid: number | undefined): WorkerStatus {
    const kind = this.forked ? 'forked' : 'remote'
    const row = { id: this.id, kind, capacity: this.capacity, inFlight: this.holding, lastHeardMs: Math.round(this.liveness.silentFor(now)), served: this.served } as const
    return pid === undefined ? row : { ...row, pid }
  }
}
