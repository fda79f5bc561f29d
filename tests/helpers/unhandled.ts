/**
 * For "a throwing listener goes no further" tests: the unhandled rejections
 * raised while `work` runs, and a pino logger whose lines are kept.
 */
import { pino, type Logger } from 'pino'

/** Runs `work` with every unhandled rejection recorded, and returns them; the listener is removed whatever happens. */
export async function unhandledDuring(work: () => Promise<void>): Promise<unknown[]> {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  try {
    await work()
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
  return unhandled
}

/** A logger at `error` level whose JSON lines go into `lines`. */
export function linesLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = []
  return { logger: pino({ level: 'error' }, { write: (line: string) => void lines.push(line) }), lines }
}
