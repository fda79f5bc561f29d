/**
 * The client's progress line, a pure core: what `run-client` shows on stderr
 * while it runs, computed from the client's live counters and a clock.
 *
 * ```
 * 1986704/1990800 commands (99 %) · 31205 commands/s · ETA 00:01 · 256 batches in flight
 * 4096/4096+ commands · 812 commands/s · 16 batches in flight        (input still being read)
 * waiting for tcp://127.0.0.1:5557 … 4 s · 0/512 commands (0 %) · 0 batches in flight
 * ```
 *
 * The rate is of finished commands (results in, whatever their code; never
 * lost ones) over a sliding window of the last few seconds, so it follows a
 * run that slows down or speeds up instead of averaging since the start. The
 * total is known once the input is fully read (the client streams its
 * input), or before, when run-client counted a regular file's lines ahead;
 * without either the line shows `done/read+` and no percentage or ETA.
 * Reading the counters is all it does per draw: nothing is added per command.
 */
import { monotonicClock, type Clock } from '../util/clock.js'
import { terminalSafe } from '../util/terminal-text.js'
import type { ClientProgress } from './events.js'

/** What the meter reads from the client at each draw: `Client.progress`, and the size run-client counted ahead. */
export interface ProgressCounters extends ClientProgress {
  /**
   * The run's size counted ahead of the reading (see countCommandLines), used
   * as the total until the input is fully read; an upper bound, since bad
   * lines are counted in it and skipped by the reader.
   */
  readonly expected?: number
}

/** One reading of the meter: the numbers the line shows. */
export interface ProgressReading {
  readonly done: number
  /** Commands read so far (the total once `total` is set). */
  readonly read: number
  /** All the commands of the run; `undefined` while the input is still being read. */
  readonly total: number | undefined
  /** Whole percent done, rounded down (100 only when every command is done); with `total`. */
  readonly percent: number | undefined
  /** Finished commands per second over the sliding window; `undefined` until the window spans `minSpanMs`. */
  readonly rate: number | undefined
  /** Time left at `rate`, in milliseconds; with `total` and a rate above 0. */
  readonly etaMs: number | undefined
  readonly inFlight: number
  /** How long the client has been waiting for a gateway, and for which. */
  readonly waiting?: { readonly endpoint: string; readonly forMs: number }
}

export interface ProgressMeterOptions {
  /** @default monotonicClock */
  readonly clock?: Clock
  /**
   * Span of the sliding window the rate is measured over, in milliseconds.
   * @default 5000
   */
  readonly windowMs?: number
  /**
   * Shortest span a rate is given for, in milliseconds: one taken over a few
   * milliseconds says nothing.
   * @default 1000
   */
  readonly minSpanMs?: number
}

export const progressDefaults = { windowMs: 5000, minSpanMs: 1000 } as const

interface Sample {
  readonly at: number
  readonly answered: number
}

/**
 * @example
 * const meter = new ProgressMeter()
 * setInterval(() => statusLine.update(formatProgress(meter.read(client.progress))), 100)
 */
export class ProgressMeter {
  private readonly clock: Clock
  private readonly windowMs: number
  private readonly minSpanMs: number
  /** Oldest first; at most one sample per tenth of the window, so it stays a dozen entries long. */
  private readonly samples: Sample[] = []

  constructor(options: ProgressMeterOptions = {}) {
    this.clock = options.clock ?? monotonicClock
    this.windowMs = options.windowMs ?? progressDefaults.windowMs
    this.minSpanMs = options.minSpanMs ?? progressDefaults.minSpanMs
    if (!(this.windowMs > 0) || !(this.minSpanMs >= 0) || this.minSpanMs > this.windowMs) {
      throw new TypeError(`expected 0 ≤ minSpanMs ≤ windowMs and windowMs > 0, got windowMs ${this.windowMs}, minSpanMs ${this.minSpanMs}`)
    }
  }

  /** Takes a sample of `counters` now and returns what the line shows. */
  read(counters: ProgressCounters): ProgressReading {
    const now = this.clock()
    const rate = this.sample(now, counters.answered)
    const total = counters.inputDone ? counters.read : counters.expected === undefined ? undefined : Math.max(counters.expected, counters.read)
    const done = counters.finished
    const percent = total === undefined ? undefined : total === 0 ? 100 : Math.floor((Math.min(done, total) * 100) / total)
    const left = total === undefined ? 0 : Math.max(0, total - done)
    const etaMs = total === undefined || rate === undefined || !(rate > 0) ? undefined : (left / rate) * 1000
    const waiting = counters.waiting === undefined ? undefined : { endpoint: counters.waiting.endpoint, forMs: Math.max(0, now - counters.waiting.sinceMs) }
    return { done, read: counters.read, total, percent, rate, etaMs, inFlight: counters.inFlight, ...(waiting === undefined ? {} : { waiting }) }
  }

  /** Records `answered` at `now` and returns the rate over the window, if it spans long enough. */
  private sample(now: number, answered: number): number | undefined {
    const samples = this.samples
    const last = samples[samples.length - 1]
    if (last === undefined || now - last.at >= this.windowMs / 10) samples.push({ at: now, answered })
    // Keep the newest sample at or before the window's start as the anchor: the rate then spans the whole window.
    while (samples.length > 2 && samples[1]!.at <= now - this.windowMs) samples.shift()
    const anchor = samples[0]!
    const span = now - anchor.at
    if (span < this.minSpanMs || span <= 0) return undefined
    return ((answered - anchor.answered) * 1000) / span
  }
}

/** `mm:ss`, or `h:mm:ss` from an hour; rounded up, so a second left never shows as 00:00. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000))
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  const mmss = `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`
  return h > 0 ? `${h}:${mmss}` : mmss
}

/** A rate as people read it: one decimal below 10 (slow checks), whole numbers above. */
function formatRate(rate: number): string {
  return rate < 10 ? rate.toFixed(1) : String(Math.round(rate))
}

/**
 * The progress line, one line without a line end.
 *
 * @example
 * formatProgress({ done: 50, read: 200, total: 200, percent: 25, rate: 10, etaMs: 15_000, inFlight: 4 })
 * // '50/200 commands (25 %) · 10 commands/s · ETA 00:15 · 4 batches in flight'
 */
export function formatProgress(r: ProgressReading): string {
  const parts: string[] = []
  if (r.waiting !== undefined) {
    // The endpoint is the user's, but it is printed raw on a terminal: escape it all the same.
    parts.push(`waiting for ${terminalSafe(r.waiting.endpoint, { maxLength: 100 })} … ${Math.floor(r.waiting.forMs / 1000)} s`)
  }
  parts.push(r.total === undefined ? `${r.done}/${r.read}+ commands` : `${r.done}/${r.total} commands (${r.percent ?? 0} %)`)
  parts.push(r.rate === undefined ? '… commands/s' : `${formatRate(r.rate)} commands/s`)
  if (r.total !== undefined) parts.push(`ETA ${r.etaMs === undefined ? '--:--' : formatDuration(r.etaMs)}`)
  parts.push(`${r.inFlight} ${r.inFlight === 1 ? 'batch' : 'batches'} in flight`)
  return parts.join(' · ')
}
