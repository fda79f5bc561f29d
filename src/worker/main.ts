/**
 * Entry point of a worker process forked by the gateway. Its configuration
 * arrives in the CGW_WORKER_CONFIG environment variable. It never outlives
 * its gateway: when the IPC channel to the parent closes (the gateway exited
 * or was SIGKILLed) it leaves at once.
 */
import { loadExecutor } from '../executors/load.js'
import type { Executor } from '../executors/types.js'
import type { ForkedWorkerOptions } from '../options/forked.js'
import { createLogger } from '../log.js'
import { errorMessage } from '../errors.js'
import { Worker } from './worker.js'
import { installCrashReport } from '../util/crash-report.js'
import { background } from '../util/background.js'
import { CONFIG_EXIT_CODE } from './exit-codes.js'

installCrashReport('worker')

/**
 * What the gateway passes to a forked worker: the options its schema marks
 * `forked` (see forkedWorkerOptions), and what is per worker or per process. @internal
 */
export type ForkedWorkerConfig = ForkedWorkerOptions & {
  readonly gateway: string
  readonly id: string
  readonly logLevel: string
  /** Pid of the forking gateway; a worker whose parent is anyone else has lost it. */
  readonly gatewayPid: number
  /**
   * With CURVE on: the path of the gateway's own `NAME.key_secret` (never the
   * key itself). A forked worker connects to the worker port under the
   * gateway's key and presents it to clients too; no server key is passed,
   * since the server is the gateway, whose public key is in this same file.
   */
  readonly curveSecret?: string
  /** Not passed by the gateway; read like run-worker's if present. */
  readonly serverKey?: string
}

/** How long buffered results may take to leave when the gateway is gone. */
const ORPHAN_LINGER_MS = 500

async function main(): Promise<void> {
  const config = JSON.parse(process.env.CGW_WORKER_CONFIG ?? 'null') as ForkedWorkerConfig | null
  if (config === null || process.send === undefined) {
    process.stderr.write('this module is started by the gateway (run-server); it is not a command\n')
    process.exit(2)
  }
  const logger = createLogger({ level: config.logLevel, bindings: { role: 'worker' } })

  // Declared before the handlers that read it: checkParent() below may call leave() at once.
  let worker: Worker | undefined
  let started = false
  let finished = false
  const leave = (why: string): void => {
    if (finished) return
    finished = true
    if (!started) {
      // Nothing taken, nothing to deliver: booting on to connect to a gateway that is gone
      // only held the exit up until the linger below (a gateway SIGKILLed while it forked).
      logger.warn({ why }, 'gateway is gone before this worker started; exiting')
      process.exit(0)
    }
    logger.warn({ why }, 'gateway is gone; exiting')
    if (worker !== undefined) background(worker.close({ force: true }), logger, 'forced close')
    // Give ZeroMQ a moment to flush results it already accepted, then go.
    setTimeout(() => process.exit(0), ORPHAN_LINGER_MS).unref()
  }
  process.on('disconnect', () => leave('IPC channel closed'))
  // The gateway can die while this process is still booting, before the handler above
  // existed; its 'disconnect' is then gone, and the parent is already init. So compare
  // against the pid the gateway gave us, now and then.
  const checkParent = (): void => {
    if (!process.connected) leave('IPC channel closed')
    else if (process.ppid !== config.gatewayPid) leave('reparented')
  }
  checkParent()
  setInterval(checkParent, 250).unref()
  // Ctrl+C reaches the whole process group; the gateway owns shutdown and sends the poison pill.
  process.on('SIGINT', () => logger.debug('SIGINT ignored; waiting for the gateway'))
  let stopRequested = false
  process.on('SIGTERM', () => {
    stopRequested = true
    if (worker !== undefined) background(worker.stop(), logger, 'stop')
  })

  let executor: Executor
  try {
    executor = await loadExecutor(config.executor, { workerId: config.id, logger, commandTimeoutMs: config.commandTimeoutMs })
  } catch (error) {
    // One line naming the module and the cause, then an exit the pool knows is not a crash.
    logger.fatal({ module: config.executor.module, err: errorMessage(error) }, 'executor did not load; exiting')
    process.exit(CONFIG_EXIT_CODE)
  }
  if (stopRequested) process.exit(0) // SIGTERM while loading: nothing held, nothing to finish
  const { executor: _spec, logLevel: _level, gatewayPid: _pid, ...settings } = config
  // The gateway's secret certificate holds its public key too: that is the server key.
  const serverKey = config.serverKey ?? config.curveSecret
  try {
    worker = new Worker({ ...settings, ...(serverKey === undefined ? {} : { serverKey }), executor, logger })
  } catch (error) {
    // A certificate that cannot be read is configuration, like an executor that does not load: no fork loop.
    logger.fatal({ curveSecret: config.curveSecret, err: errorMessage(error) }, 'worker cannot start; exiting')
    process.exit(CONFIG_EXIT_CODE)
  }
  await worker.warmUp()
  worker.start()
  started = true
  await worker.closed
  finished = true
  if (process.connected) process.disconnect()
  // Sockets closed with linger let ZeroMQ finish delivering; exit as soon as the loop drains.
  setTimeout(() => process.exit(0), 3000).unref()
}

main().catch((error: unknown) => {
  process.stderr.write(`worker failed: ${errorMessage(error)}\n`)
  process.exit(1)
})
