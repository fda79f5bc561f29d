/**
 * The executor seam. A worker runs every command through an {@link Executor};
 * an executor module makes one. Every worker, forked or remote, imports the
 * same module, so a module is named (path or package) rather than passed as
 * a function, and its options must survive JSON.
 */
import type { Logger } from '../log.js'

/**
 * Runs `command` on `address` and resolves with its response. Throw
 * `UnknownCommandError` for an address or command it does not know (reported
 * as code 1) and `CommandTimeoutError` when a time limit of its own ran out
 * (code 3); any other rejection is reported as code 2 with the error's
 * message. The resolved value must be MessagePack-encodable. `signal` fires
 * when the command times out or the worker is forced to stop: stop the I/O then.
 *
 * @example
 * const ping: Executor = async (address, command, signal) => {
 *   if (command !== 'ping') throw new UnknownCommandError(address, command)
 *   return (await fetch(`http://${address}/health`, { signal })).status
 * }
 */
export interface Executor {
  (address: string, command: string, signal: AbortSignal): Promise<unknown>
  /** Called once when the worker closes, after its last command ended. */
  close?(): void | Promise<void>
}

/** What a worker tells the executor module it loads. */
export interface ExecutorContext {
  /** The worker's CGP/1 id. */
  readonly workerId: string
  /** The worker's logger; write through it, never to stdout. */
  readonly logger: Logger
  /**
   * The worker's per-command time limit in milliseconds (0: none). An
   * executor with time limits of its own caps them at this one, so that it,
   * not the worker's race, ends the command and cleans up after it.
   */
  readonly commandTimeoutMs?: number
}

/**
 * The default export of an executor module.
 *
 * @example
 * // my-executor.mjs
 * export default function createExecutor(options, context) {
 *   return async (address, command) => `${options.prefix}${address}:${command}`
 * }
 */
export type CreateExecutor<Options = unknown> = (options: Options, context: ExecutorContext) => Executor | Promise<Executor>

/** Names an executor module and its options, for workers to import. */
export interface ExecutorSpec {
  /** A file path (relative to the working directory) or a package name, or a built-in: `device-map`. */
  readonly module: string
  /** Passed to `createExecutor` as they are; JSON values only, since forked workers receive them through JSON. */
  readonly options?: unknown
}
