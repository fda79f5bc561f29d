/**
 * run-worker: a worker on another host, joining a gateway's worker port over
 * TCP. The same Worker as the forked ones; thin: flags map onto
 * WorkerOptions, signals onto Worker.stop() and close({ force }).
 */
import { Command } from '@commander-js/extra-typings'
import { createLogger } from '../log.js'
import { background } from '../util/background.js'
import { deviceMapExecutor } from '../worker/executor.js'
import { Worker, workerDefaults } from '../worker/worker.js'
import { ExitCode, VERSION, exitCodeFor, integer, loadMapLogged, logLevel, parseArgv, reportError } from './common.js'

const EXAMPLES = `
Examples:
  # the gateway opens its worker port to the network, and forks no worker of its own
  $ run-server devices.txt tcp://0.0.0.0:5557 -w 0 --workers-bind tcp://0.0.0.0:5558
  # on each worker host
  $ run-worker --gateway tcp://gateway-host:5558 --map devices.txt --concurrency 4096

It says ready with its capacity, and again after every reconnect: a silent gateway
(3 heartbeats) makes it reconnect with back-off, one heartbeat doubling to 32 s.
The gateway's poison pill (its shutdown) or Ctrl+C here: it finishes and delivers
what it holds, says bye and exits 0. A second Ctrl+C exits at once (130).
`

function buildProgram() {
  return new Command('run-worker')
    .description('Run a worker on this host for a command gateway: simulate the devices of a map file.')
    .version(VERSION)
    .requiredOption('-g, --gateway <endpoint>', "the gateway's worker port (its --workers-bind)")
    .requiredOption('-m, --map <file>', 'device map file: address:command:response:wait lines')
    .option('--id <id>', 'worker id, unique per gateway (default: host-pid-random)')
    .option('--capacity <n>', 'batches held at once', integer(1, 1_000_000), workerDefaults.capacity)
    .option('--concurrency <n>', 'commands in flight at once', integer(1), workerDefaults.concurrency)
    .option('--command-timeout <ms>', 'cancel a command after this long (code 3); 0 = none', integer(0), workerDefaults.commandTimeoutMs)
    .option('--heartbeat <ms>', 'heartbeat interval; 3 silent intervals = gateway lost', integer(10), workerDefaults.heartbeatIntervalMs)
    .option('--max-batch <n>', 'largest batch accepted (commands)', integer(1), workerDefaults.maxBatch)
    .option('--max-message-size <bytes>', 'largest message accepted', integer(1024), workerDefaults.maxMessageBytes)
    .option('--strict', 'refuse to start if the map file has a bad line (exit 2)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', logLevel, 'info')
    .addHelpText('after', EXAMPLES)
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride()
  const answered = parseArgv(program, argv)
  if (answered !== undefined) return answered
  const o = program.opts()
  const logger = createLogger({ level: o.logLevel, bindings: { role: 'worker' } })
  let worker: Worker
  try {
    const map = await loadMapLogged(o.map, o.strict === true, logger)
    worker = new Worker({
      gateway: o.gateway,
      executor: deviceMapExecutor(map),
      ...(o.id !== undefined ? { id: o.id } : {}),
      capacity: o.capacity,
      concurrency: o.concurrency,
      commandTimeoutMs: o.commandTimeout,
      heartbeatIntervalMs: o.heartbeat,
      maxBatch: o.maxBatch,
      maxMessageBytes: o.maxMessageSize,
      logger,
    })
  } catch (error) {
    reportError('run-worker', error, o.logLevel === 'debug' || o.logLevel === 'trace')
    return exitCodeFor(error)
  }
  let signals = 0
  let forced = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals === 1) {
      logger.info({ signal }, 'stopping: finishing held batches (signal again to exit now)')
      background(worker.stop(), logger, 'stop')
    } else {
      forced = true
      background(worker.close({ force: true }), logger, 'forced close')
    }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  await worker.warmUp()
  worker.start()
  logger.info({ gateway: o.gateway, id: worker.id }, 'worker started')
  await worker.closed
  return forced ? ExitCode.Interrupted : ExitCode.Ok
}

const code = await main(process.argv)
process.exitCode = code
// Sockets closed with linger let ZeroMQ finish delivering; never hang the shell after that.
setTimeout(() => process.exit(code), 2000).unref()
