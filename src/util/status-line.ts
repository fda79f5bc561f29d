/**
 * One owner for the bottom line of stderr, shared by the logger and a status
 * line (run-client's progress). Without it the two fight: a log line written
 * while the progress line is on screen starts where the progress text ends
 * (`… 256 batches in flight[01:02:33.552] WARN …`), and the next redraw
 * overwrites the log's last row.
 *
 * Every write goes through here: before log output the status line is
 * cleared (`\r` and erase-line), the log written, and the status line drawn
 * again below it, all in one write. Draws are throttled (at most one per
 * `minIntervalMs`, 10 a second by default), so a burst of log lines costs one
 * redraw, not one each; a redraw skipped for that reason happens at the next
 * {@link StatusLine.update}. Pure apart from its `write` sink and clock, so it
 * is tested on fake time with a tiny terminal model.
 */
import { monotonicClock, type Clock } from './clock.js'

/** Carriage return, then erase the whole line: the cursor is at column 0 of an empty line. */
export const CLEAR_LINE = '\r\x1b[2K'

export interface StatusLineOptions {
  /** @default monotonicClock */
  readonly clock?: Clock
  /**
   * Shortest time between two draws of the status line, in milliseconds.
   * @default 100
   */
  readonly minIntervalMs?: number
  /**
   * Width of the terminal, read at each draw; a status line is cut to one
   * column less, since a line that wraps can no longer be erased with one
   * erase-line. `undefined` (not a terminal): never cut.
   */
  readonly columns?: () => number | undefined
}

/**
 * @example
 * const line = new StatusLine((text) => fs.writeSync(2, text))
 * line.update('10/512 commands (1 %)')  // drawn
 * line.log('{"level":40,"msg":"…"}\n')  // erased, the log line, drawn again below it
 * line.clear()                          // gone, the cursor at column 0
 */
export class StatusLine {
  private readonly clock: Clock
  private readonly minIntervalMs: number
  private readonly columns: () => number | undefined
  /** The status text to show ('' for none), already cut to the width. */
  private text = ''
  /** Whether `text` is on the screen now (the cursor then sits at its end). */
  private shown = false
  private lastDrawAt = Number.NEGATIVE_INFINITY

  constructor(
    private readonly write: (chunk: string) => void,
    options: StatusLineOptions = {},
  ) {
    this.clock = options.clock ?? monotonicClock
    this.minIntervalMs = options.minIntervalMs ?? 100
    this.columns = options.columns ?? (() => undefined)
  }

  /** Whether a status line is set (drawn or due to be). */
  get active(): boolean {
    return this.text !== ''
  }

  /**
   * Writes log output: whole lines (a missing final line end is added, so the
   * status line never shares a row with it). The status line is erased first
   * and drawn again after it, unless it was drawn less than `minIntervalMs`
   * ago; then the next {@link update} draws it.
   */
  log(chunk: string): void {
    const lines = chunk.endsWith('\n') ? chunk : `${chunk}\n`
    if (this.text === '') {
      this.write(lines)
      return
    }
    let out = this.shown ? CLEAR_LINE + lines : lines
    this.shown = false
    const now = this.clock()
    if (now - this.lastDrawAt >= this.minIntervalMs) {
      out += this.text
      this.shown = true
      this.lastDrawAt = now
    }
    this.write(out)
  }

  /** Sets the status text (one line, no line end) and draws it, at most once per `minIntervalMs`. */
  update(text: string): void {
    const fitted = this.fit(text.replace(/[\r\n]/g, ' '))
    if (fitted === '') return this.clear()
    if (fitted === this.text && this.shown) return
    this.text = fitted
    const now = this.clock()
    if (now - this.lastDrawAt < this.minIntervalMs) return
    this.write(CLEAR_LINE + fitted)
    this.shown = true
    this.lastDrawAt = now
  }

  /** Erases the status line and forgets it: later log output is written as it is. */
  clear(): void {
    if (this.shown) this.write(CLEAR_LINE)
    this.shown = false
    this.text = ''
  }

  private fit(text: string): string {
    const columns = this.columns()
    if (columns === undefined || !(columns > 1)) return text
    const chars = Array.from(text)
    return chars.length < columns ? text : `${chars.slice(0, columns - 2).join('')}…`
  }
}
