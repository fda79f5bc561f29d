/**
 * The gateway's recent throughput: its cumulative counters sampled once an
 * interval (a second) into a fixed ring, read back as per-second rates over
 * the last minute, for the dashboard's chart and `gateway-status`. A pure
 * core: the clock is a parameter and the gateway's own ticker calls
 * {@link RateHistory.sample}, so no timer of its own runs.
 */
import type { Clock } from '../util/clock.js'

/**
 * The counters a rate is taken of. The gateway's stats fit as they are;
 * `commands` (outcomes per command) is absent from gateways that do not count
 * commands, and then so is the commands rate.
 */
export interface RateCounters {
  /** Messages read by the intake (batches, and the odd abort or malformed one). */
  readonly received: number
  /** Tasks read by the intake; counted instead of `received` where the gateway has it. */
  readonly batchesReceived?: number
  /** Batches finished (`done`). */
  readonly completed: number
  readonly commands?: {
    readonly ok?: number
    readonly unknown?: number
    readonly failed?: number
    readonly timeout?: number
    readonly cancelled?: number
  }
}

/** The last minute's rates, oldest first, one entry per interval; fewer entries while the gateway is younger than that. */
export interface RecentRates {
  /** What one entry spans, in milliseconds. */
  readonly intervalMs: number
  /** Batches finished per second. */
  readonly batchesPerSecond: number[]
  /** Batches received by the intake per second (intake messages, from gateways that do not count batches apart). */
  readonly receivedPerSecond: number[]
  /** Commands finished (any outcome) per second; absent when the gateway does not count commands. */
  readonly commandsPerSecond?: number[]
}

export interface RateHistoryOptions {
  /** Milliseconds, as the gateway's clock counts them. */
  readonly clock: Clock
  /**
   * What one entry spans, in milliseconds.
   * @default 1000
   */
  readonly intervalMs?: number
  /**
   * Entries kept; the oldest is dropped past it.
   * @default 60
   */
  readonly length?: number
}

export const rateHistoryDefaults = { intervalMs: 1000, length: 60 } as const

/** A fixed ring of numbers, oldest dropped first. */
class Ring {
  private readonly values: Float64Array
  private head = 0
  private count = 0

  constructor(length: number) {
    this.values = new Float64Array(length)
  }

  push(value: number): void {
    const length = this.values.length
    this.values[(this.head + this.count) % length] = value
    if (this.count < length) this.count++
    else this.head = (this.head + 1) % length
  }

  /** Oldest first, rounded to hundredths: a rate needs no more, and the JSON stays short. */
  toArray(): number[] {
    const out = new Array<number>(this.count)
    for (let i = 0; i < this.count; i++) out[i] = Math.round(this.values[(this.head + i) % this.values.length]! * 100) / 100
    return out
  }
}

function commandsDone(counters: RateCounters): number | undefined {
  const c = counters.commands
  if (c === undefined) return undefined
  return (c.ok ?? 0) + (c.unknown ?? 0) + (c.failed ?? 0) + (c.timeout ?? 0) + (c.cancelled ?? 0)
}

interface Sample {
  readonly at: number
  readonly received: number
  readonly completed: number
  readonly commands: number | undefined
}

/**
 * @example
 * const rates = new RateHistory({ clock: () => performance.now() })
 * setInterval(() => rates.sample(gateway.stats), 500)   // as often as you like; it keeps one entry a second
 * rates.snapshot().batchesPerSecond                       // [12, 14, 13, …]
 */
export class RateHistory {
  private readonly clock: Clock
  private readonly intervalMs: number
  private readonly length: number
  private readonly batches: Ring
  private readonly received: Ring
  private readonly commands: Ring
  private last: Sample | undefined
  private countsCommands = false

  constructor(options: RateHistoryOptions) {
    const o = { ...rateHistoryDefaults, ...options }
    if (!(Number.isFinite(o.intervalMs) && o.intervalMs > 0)) throw new TypeError(`intervalMs must be a number > 0, got ${String(o.intervalMs)}`)
    if (!(Number.isSafeInteger(o.length) && o.length >= 1)) throw new TypeError(`length must be an integer >= 1, got ${String(o.length)}`)
    this.clock = o.clock
    this.intervalMs = o.intervalMs
    this.length = o.length
    this.batches = new Ring(o.length)
    this.received = new Ring(o.length)
    this.commands = new Ring(o.length)
  }

  /**
   * Reads `counters` if an interval has passed since the last reading (the
   * first call only sets the baseline). A caller late by several intervals
   * (a stalled event loop, a ticker slower than a second) gets the average
   * rate over the gap in each interval it spans, so the minute stays a minute.
   */
  sample(counters: RateCounters): void {
    const now = this.clock()
    const current: Sample = { at: now, received: counters.batchesReceived ?? counters.received, completed: counters.completed, commands: commandsDone(counters) }
    const last = this.last
    if (last === undefined) {
      this.last = current
      return
    }
    const elapsedMs = now - last.at
    if (elapsedMs < this.intervalMs) return
    const intervals = Math.min(this.length, Math.floor(elapsedMs / this.intervalMs))
    const perSecond = (from: number, to: number): number => (Math.max(0, to - from) * 1000) / elapsedMs
    const batches = perSecond(last.completed, current.completed)
    const received = perSecond(last.received, current.received)
    // A commands series starts at its first pair of readings that both have commands.
    const commands = last.commands !== undefined && current.commands !== undefined ? perSecond(last.commands, current.commands) : undefined
    for (let i = 0; i < intervals; i++) {
      this.batches.push(batches)
      this.received.push(received)
      if (commands !== undefined) this.commands.push(commands)
    }
    if (commands !== undefined) this.countsCommands = true
    this.last = current
  }

  /** The rates so far, oldest first. */
  snapshot(): RecentRates {
    const rates = { intervalMs: this.intervalMs, batchesPerSecond: this.batches.toArray(), receivedPerSecond: this.received.toArray() }
    return this.countsCommands ? { ...rates, commandsPerSecond: this.commands.toArray() } : rates
  }
}
