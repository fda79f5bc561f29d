/**
 * Clients that sent `abort`, remembered for a while so batches of theirs
 * still on the way (sent before the abort, over another connection, or a
 * resend) are dropped too. Bounded in count and in time, since client ids are
 * untrusted: the oldest is forgotten first.
 */
import type { Clock } from '../util/clock.js'

export const abortRegistryDefaults = { max: 10_000, ttlMs: 10 * 60_000 }

export class AbortRegistry {
  /** Client id to the time its abort is forgotten; insertion order is expiry order. */
  private readonly until = new Map<string, number>()

  constructor(
    private readonly clock: Clock,
    readonly max: number = abortRegistryDefaults.max,
    readonly ttlMs: number = abortRegistryDefaults.ttlMs,
  ) {}

  /** Clients remembered (expired ones included until they are looked up). */
  get size(): number {
    return this.until.size
  }

  remember(client: string): void {
    // Re-inserted so that insertion order stays expiry order.
    this.until.delete(client)
    if (this.until.size >= this.max) {
      const oldest = this.until.keys().next().value
      if (oldest !== undefined) this.until.delete(oldest)
    }
    this.until.set(client, this.clock() + this.ttlMs)
  }

  /** Whether `client` aborted within the last `ttlMs`. */
  has(client: string): boolean {
    if (this.until.size === 0) return false
    const until = this.until.get(client)
    if (until === undefined) return false
    if (until > this.clock()) return true
    this.until.delete(client)
    return false
  }
}
