/**
 * The gateway's one timer. Every half heartbeat interval it runs the core's
 * tick (liveness, hold timeouts, heartbeats, retirement, growth) and samples
 * the counters into the throughput history, so the status view's `recent`
 * needs no timer of its own.
 */
import type { Clock } from '../util/clock.js'
import { RateHistory, type RateCounters, type RecentRates } from './rate-history.js'

/** What the ticker drives: the core fits. */
export interface Tickable {
  tick(): void
  readonly stats: RateCounters
}

export class GatewayTicker {
  /** The last minute's throughput, read on each tick (status `recent`). */
  private readonly rates: RateHistory
  private timer: NodeJS.Timeout | undefined

  constructor(clock: Clock) {
    this.rates = new RateHistory({ clock })
  }

  /** Takes the first sample now, then ticks every half `heartbeatIntervalMs` (at least every 10 ms) until {@link stop}. */
  start(core: Tickable, heartbeatIntervalMs: number): void {
    this.rates.sample(core.stats)
    this.timer = setInterval(() => {
      core.tick()
      this.rates.sample(core.stats)
    }, Math.max(10, Math.floor(heartbeatIntervalMs / 2)))
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /** The last minute's rates, for the status view. */
  recent(): RecentRates {
    return this.rates.snapshot()
  }
}
