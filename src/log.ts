/**
 * pino set-up shared by every process. Logs are JSON on stderr, written
 * synchronously so that no line is lost when a process exits on a signal;
 * nothing logs per message on the hot path, so the cost is per event, not per
 * command. On a TTY the same stream is pretty-printed in-process (no
 * transport thread per forked worker). Every line goes through the process's
 * one {@link stderrStatus}, so a status line (run-client's progress) is
 * erased before a log line and drawn again after it, never glued to it.
 */
import { createRequire } from 'node:module'
import { pino, type Level, type Logger } from 'pino'
import { terminalSafe } from './util/terminal-text.js'
import { monotonicClock, type Clock } from './util/clock.js'
import { StatusLine } from './util/status-line.js'

export type { Logger } from 'pino'

/** Log levels accepted by `--log-level`. */
export const LOG_LEVELS: readonly (Level | 'silent')[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export interface LoggerOptions {
  /**
   * Minimum level written.
   * @default 'info'
   */
  readonly level?: string
  /** Bound into every line, for example `{ role: 'gateway' }`. */
  readonly bindings?: Record<string, unknown>
  /**
   * Pretty-print instead of JSON.
   * @default true when stderr is a TTY
   */
  readonly pretty?: boolean
}

/** A logger writing to stderr. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info'
  const pretty = options.pretty ?? process.stderr.isTTY === true
  const base = { pid: process.pid, ...options.bindings }
  if (pretty) {
    // pino-pretty is only loaded for a terminal; machines reading JSON never pay for it.
    const require = createRequire(import.meta.url)
    const { prettyFactory } = require('pino-pretty') as { prettyFactory: (options: Record<string, unknown>) => (line: string) => string | undefined }
    // A terminal shows what it is sent: ids and reasons from the network could recolour or
    // rewrite it, or hide behind bidi characters, so every string is escaped first.
    const messageFormat = (log: Record<string, unknown>, messageKey: string): string =>
      terminalSafe(String(log[messageKey] ?? ''), { escapeBackslash: false })
    // The formatter alone, not pino-pretty's stream: its piped Transform would write later,
    // out of step with the status line it has to share the terminal with.
    const format = prettyFactory({ colorize: true, ignore: 'hostname', messageFormat })
    return pino({ level, base, formatters: { log: terminalSafeFields } }, {
      write(line: string) {
        const text = format(line)
        if (text !== undefined && text !== '') stderrStatus().log(text)
      },
    })
  }
  return pino({ level, base }, { write: (line: string) => stderrStatus().log(line) })
}

let stderrLine: StatusLine | undefined

/**
 * The process's owner of stderr's last line: logs from {@link createLogger}
 * go through it, and so must any status line drawn on stderr. Writes are
 * synchronous (a sonic-boom on fd 2), as the logs always were.
 *
 * @example
 * const status = stderrStatus()
 * const timer = setInterval(() => status.update(`${done}/${total} commands`), 100)
 * // … logger.warn(…) lines appear above the status line, never on it
 * clearInterval(timer)
 * status.clear()
 */
export function stderrStatus(): StatusLine {
  if (stderrLine === undefined) {
    const destination = pino.destination({ fd: 2, sync: true })
    stderrLine = new StatusLine((chunk) => destination.write(chunk), {
      columns: () => (process.stderr.isTTY ? process.stderr.columns : undefined),
    })
  }
  return stderrLine
}

/**
 * `fields` with every string in it (nested plain objects and arrays too, to a
 * few levels) escaped for a terminal. For the pretty logger; JSON lines are
 * for programs, and JSON already escapes what a program needs.
 */
export function terminalSafeFields(fields: Record<string, unknown>): Record<string, unknown> {
  return escapeValue(fields, 0) as Record<string, unknown>
}

function escapeValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return terminalSafe(value, { escapeBackslash: false })
  if (depth >= 4 || typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map((item) => escapeValue(item, depth + 1))
  if (Object.getPrototypeOf(value) !== Object.prototype) return value
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) out[terminalSafe(key, { escapeBackslash: false })] = escapeValue(item, depth + 1)
  return out
}

/** A logger that writes nothing, for library users who pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}

/**
 * Logs at most `perSecond` lines of one kind per second and then one line
 * counting what it held back, so a flood of garbage cannot flood the log.
 */
export class RateLimitedLog {
  private windowStart = Number.NEGATIVE_INFINITY
  private inWindow = 0
  private suppressed = 0
  private message = ''
  private level: 'info' | 'warn' = 'warn'
  private flushTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly logger: Logger,
    private readonly perSecond = 10,
    private readonly clock: Clock = monotonicClock,
  ) {}

  warn(fields: Record<string, unknown>, message: string): void {
    this.write('warn', fields, message)
  }

  info(fields: Record<string, unknown>, message: string): void {
    this.write('info', fields, message)
  }

  private write(level: 'info' | 'warn', fields: Record<string, unknown>, message: string): void {
    const now = this.clock()
    if (now - this.windowStart >= 1000) {
      this.flush()
      this.windowStart = now
      this.inWindow = 0
    }
    if (this.inWindow < this.perSecond) {
      this.inWindow++
      this.logger[level](fields, message)
      return
    }
    if (this.suppressed++ === 0) {
      // Count what was held back even if nothing else arrives after this window.
      this.message = message
      this.level = level
      this.flushTimer = setTimeout(() => this.flush(), this.windowStart + 1000 - now)
      this.flushTimer.unref()
    }
  }

  /** Writes the count of what was held back now (at close, so it is not lost). */
  flush(): void {
    clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    if (this.suppressed === 0) return
    this.logger[this.level]({ suppressed: this.suppressed }, `${this.message}: ${this.suppressed} more not logged`)
    this.suppressed = 0
  }
}
