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
  (address: string, command: string, signal: AbortSignal, control?: CommandControl): Promise<unknown>
  /** Called once when the worker closes, after its last command ended. */
  close?(): void | Promise<void>
  /**
   * Set to `true` by an executor that may give its command's worker slot
   * back while the command waits on a limit of its own: every command then
   * gets a {@link CommandControl} as the 4th argument. Without it, none does
   * (that object costs an allocation per command).
   */
  usesSlots?: boolean
}

/**
 * A command's hold on its worker slot (one of `--concurrency`), given to an
 * executor that sets {@link Executor.usesSlots}. An executor that never calls
 * these behaves exactly as one that sets no flag.
 *
 * A command that must wait on something of the executor's own (a per-address
 * queue) calls {@link yieldSlot} before it waits, so that other commands,
 * other clients' first, run in its slot meanwhile; once it may go on, it
 * awaits {@link resume} and only then does its work. Between the two it holds
 * no slot, and its time limit, its client's cancel and a forced stop still
 * apply: each settles the command as usual, at once. Call both as methods
 * of the object (`control.yieldSlot()`), not detached.
 */
export interface CommandControl {
  /**
   * Gives the command's slot back now (the next waiting command starts in
   * it). A no-op when the slot is already given back or the command has its
   * outcome.
   */
  yieldSlot(): void
  /**
   * Waits for a slot again, queued under the command's client in the same
   * fair order as every command still to start (round-robin over clients,
   * then batches), and resolves once the command holds one; it keeps it until
   * it ends. Resolves at once when the slot was not given back. Rejects when
   * the command can no longer use it: it has its outcome already (time limit,
   * cancel) or the worker is stopped by force. Then do not run the work.
   */
  resume(): Promise<void>
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
