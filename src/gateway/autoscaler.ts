/**
 * When the gateway forks a worker and when it lets one go. Pure: it is given
 * the pool's counts and the sessions, and decides; the caller forks, sends
 * the poison pill and kills.
 */

export interface AutoscalerOptions {
  /** Forked workers always kept. */
  readonly minWorkers: number
  /** Most forked workers. */
  readonly maxWorkers: number
  /** A forked worker beyond `minWorkers` idle this long is retired, in milliseconds; 0 never. */
  readonly idleTimeoutMs: number
  /** A retired worker still alive this long after the poison pill is killed, in milliseconds. */
  readonly graceMs: number
}

/** The pool as the autoscaler counts it. */
export interface PoolCounts {
  /** Live forked processes, starting ones included. */
  readonly forked: number
  /** Forked processes that have not said ready yet. */
  readonly starting: number
}

/** What waits for a worker. */
export interface Demand {
  /** Queued batches or second runs. */
  readonly waiting: boolean
  /** Second runs: no free worker may take them (each holds a copy), another one can. */
  readonly secondRunsWaiting: number
  /** Some connected worker has free capacity. */
  readonly hasCredit: boolean
}

/** A connected worker as the idle rule sees it. */
export interface IdleCandidate {
  readonly id: string
  readonly forked: boolean
  readonly holding: number
  readonly idleSince: number
}

export class Autoscaler {
  /** Forked workers sent the poison pill for idleness, until their process exits: id → when to kill it. */
  private readonly retiring = new Map<string, number>()

  constructor(private readonly options: AutoscalerOptions) {}

  /** Workers retired and not exited yet. */
  get retiringCount(): number {
    return this.retiring.size
  }

  isRetiring(id: string): boolean {
    return this.retiring.has(id)
  }

  /**
   * How many workers to fork now: up to `minWorkers` always (retiring ones
   * are leaving and do not count); beyond that one at a time, only while work
   * waits and no worker has free capacity (or a second run waits, which no
   * free worker may take), none while one is still starting, and never past
   * `maxWorkers`. So a burst does not fork the whole pool at once.
   */
  toFork(pool: PoolCounts, demand: Demand): number {
    const short = this.options.minWorkers - (pool.forked - this.retiring.size)
    if (short > 0) return short
    if (!demand.waiting || pool.starting > 0 || pool.forked >= this.options.maxWorkers) return 0
    return !demand.hasCredit || demand.secondRunsWaiting > 0 ? 1 : 0
  }

  /**
   * The forked workers to retire now, in the order given: each has held
   * nothing for `idleTimeoutMs`, while the pool stays at `minWorkers` or more
   * without the retiring ones. They count as retiring from now on, and are
   * overdue once `graceMs` has passed.
   */
  retire<W extends IdleCandidate>(now: number, pool: PoolCounts, workers: Iterable<W>): { worker: W; idleMs: number }[] {
    const chosen: { worker: W; idleMs: number }[] = []
    const idleTimeoutMs = this.options.idleTimeoutMs
    if (idleTimeoutMs === 0) return chosen
    for (const worker of workers) {
      if (pool.forked - this.retiring.size <= this.options.minWorkers) break
      if (worker.holding > 0 || now - worker.idleSince < idleTimeoutMs || !worker.forked) continue
      this.retiring.set(worker.id, now + this.options.graceMs)
      chosen.push({ worker, idleMs: now - worker.idleSince })
    }
    return chosen
  }

  /** Retired workers past their grace time, to be killed (again, until they exit). */
  overdue(now: number): string[] {
    const ids: string[] = []
    for (const [id, killAt] of this.retiring) if (now > killAt) ids.push(id)
    return ids
  }

  /** A forked worker's process exited. */
  exited(id: string): void {
    this.retiring.delete(id)
  }
}
