/**
 * The worker owns its executor's `close()`: called once, after the last
 * command ended, whichever way the worker closes. A close that fails is
 * logged, never thrown.
 */
import { errorMessage } from '../errors.js'
import type { Executor } from '../executors/types.js'
import type { Logger } from '../log.js'
import { background } from '../util/background.js'

/** How long a forced close waits for aborted commands to end; the executor's close() waits for them regardless. */
const FORCED_DRAIN_MS = 1000

/** The commands running on the executor (the worker's `BatchRunner`). */
export interface RunningCommands {
  /** Resolves when every command started has its outcome. */
  idle(): Promise<void>
}

export class ExecutorCloser {
  private closing: Promise<void> | undefined

  constructor(
    private readonly executor: Executor,
    private readonly commands: RunningCommands,
    private readonly logger: Logger,
  ) {}

  /** Calls the executor's `close()` once, after its last command ended. Later calls return the same promise. */
  close(): Promise<void> {
    this.closing ??= this.commands.idle().then(async () => {
      try {
        await this.executor.close?.()
      } catch (error) {
        this.logger.warn({ err: errorMessage(error) }, 'executor close failed')
      }
    })
    return this.closing
  }

  /**
   * After the commands were aborted: {@link close}, awaited if they end
   * within {@link FORCED_DRAIN_MS}, otherwise left to finish in the background.
   */
  async closeAfterAbort(): Promise<void> {
    // Aborted commands end at once with an executor that honours its signal; one that
    // does not must not hold the close forever.
    let timer: NodeJS.Timeout | undefined
    const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), FORCED_DRAIN_MS)))
    const ended = await Promise.race([this.commands.idle().then(() => true), gaveUp])
    clearTimeout(timer)
    if (ended) await this.close()
    else background(this.close(), this.logger, 'closing the executor')
  }
}
