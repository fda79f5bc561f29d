/**
 * Runs a promise that nobody awaits. Its failure is logged, never left as an
 * unhandled rejection (which ends the process): every `void promise` in the
 * code goes through here or has its own `.catch`.
 */
import { errorMessage } from '../errors.js'

/** Anything with pino's `error(fields, message)`. */
interface ErrorSink {
  error(fields: Record<string, unknown>, message: string): void
}

export function background(promise: Promise<unknown>, logger: ErrorSink, what: string): void {
  promise.catch((error: unknown) => {
    logger.error({ err: errorMessage(error) }, `${what} failed`)
  })
}
