/**
 * run-server: the gateway and its forked workers. Thin: flags map onto
 * GatewayOptions; signals map onto Gateway.close().
 */
import { Command } from '@commander-js/extra-typings'
import { Gateway, gatewayDefaults } from '../gateway/gateway.js'
import { ConfigError } from '../errors.js'
import { createLogger } from '../log.js'
import { background } from '../util/background.js'
import { ExitCode, VERSION, exitCodeFor, integer, logLevel, loadMapLogged, parseArgv, positionalOr, reportError } from './common.js'

const EXAMPLES = `
Examples:
  # the original's order: map file, intake bind, client (ignored), max workers
  $ run-server tests/data/server_data.txt tcp://127.0.0.1:5557 tcp://127.0.0.1:5556 32

  # named options; accept remote workers too
  $ run-server -m devices.txt -b 'tcp://0.0.0.0:5557' -w 8 --workers-bind tcp://0.0.0.0:5558

Map file: one "address:command:response:wait" per line: after wait seconds the device
answers response (an integer). A later duplicate entry wins, with a warning.

Results go straight from the workers to each batch's replyTo; [client] is accepted
only so that the original's argument order still works.

Ctrl+C or SIGTERM: stop intake, reject queued batches (shutting-down), let workers finish
and deliver what they hold (up to --grace), then exit 0. A second signal forces the exit.
When ready, one line "listening <endpoint>" is printed on stdout.
`

function buildProgram() {
  return new Command('run-server')
    .description('Run a command gateway: queue clients\' batches and run them on forked workers.')
    .version(VERSION)
    .argument('[map-file]', 'device map file (same as --map)')
    .argument('[bind]', 'intake endpoint to bind (same as --bind)')
    .argument('[client]', 'ignored: results go to each batch\'s replyTo')
    .argument('[max-workers]', 'most forked workers (same as --max-workers)', integer(0, 4096))
    .option('-m, --map <file>', 'device map file')
    .option('-b, --bind <endpoint>', 'intake endpoint; tcp://127.0.0.1:* picks a free port', gatewayDefaults.bind)
    .option('-w, --max-workers <n>', 'most forked workers', integer(0, 4096), gatewayDefaults.maxWorkers)
    .option('--min-workers <n>', 'workers forked at start and always kept (the pool grows with load)', integer(0, 4096), gatewayDefaults.minWorkers)
    .option('--idle-timeout <ms>', 'retire a forked worker beyond --min-workers idle this long; 0 = never', integer(0), gatewayDefaults.idleTimeoutMs)
    .option('--capacity <n>', 'batches each forked worker holds at once', integer(1, 1_000_000), gatewayDefaults.capacity)
    .option('--max-worker-capacity <n>', 'most batches any worker may hold, whatever its ready declares', integer(1, 1_000_000), gatewayDefaults.maxWorkerCapacity)
    .option('--hold-timeout <ms>', 'take back a batch a worker held this long and drop that worker; 0 = never', integer(0), gatewayDefaults.holdTimeoutMs)
    .option('--concurrency <n>', 'commands in flight per worker', integer(1), gatewayDefaults.concurrency)
    .option('--command-timeout <ms>', 'cancel a command after this long (code 3); 0 = none', integer(0), gatewayDefaults.commandTimeoutMs)
    .option('--queue-limit <n>', 'queued batches before intake pauses', integer(1), gatewayDefaults.queueLimit)
    .option('--queue-bytes <bytes>', 'queued body bytes before intake pauses', integer(1), gatewayDefaults.queueBytes)
    .option('--max-batch <n>', 'largest batch accepted (commands)', integer(1), gatewayDefaults.maxBatch)
    .option('--max-attempts <n>', 'runs per batch when workers die', integer(1, 1000), gatewayDefaults.maxAttempts)
    .option('--grace <ms>', 'time workers get after the poison pill before SIGKILL', integer(0), gatewayDefaults.graceMs)
    .option('--heartbeat <ms>', 'heartbeat interval; 3 silent intervals = dead', integer(10), gatewayDefaults.heartbeatIntervalMs)
    .option('--workers-bind <endpoint>', 'worker port (default: a fresh ipc:// path)')
    .option('--status <endpoint>', 'answer gateway-status requests on this endpoint')
    .option('--max-message-size <bytes>', 'largest message accepted', integer(1024), gatewayDefaults.maxMessageBytes)
    .option('--strict', 'refuse to start if the map file has a bad line (exit 2)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', logLevel, 'info')
    .addHelpText('after', EXAMPLES)
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride()
  const answered = parseArgv(program, argv)
  if (answered !== undefined) return answered
  const [positionalMap, positionalBind, positionalClient, positionalWorkers] = program.processedArgs
  const o = program.opts()
  const given = (name: string): boolean => program.getOptionValueSource(name as never) === 'cli'
  const verbose = o.logLevel === 'debug' || o.logLevel === 'trace'
  const logger = createLogger({ level: o.logLevel })
  let gateway: Gateway
  try {
    const mapFile = positionalMap ?? o.map
    if (mapFile === undefined) throw new ConfigError('ERR_INVALID_OPTION', 'a device map file is required (run-server <map-file> or --map)')
    if (positionalMap !== undefined && o.map !== undefined && o.map !== positionalMap) {
      throw new ConfigError('ERR_INVALID_OPTION', `map file given twice: ${positionalMap} and --map ${o.map}`)
    }
    if (positionalClient !== undefined) logger.debug({ client: positionalClient }, 'client endpoint ignored: results go to each batch\'s replyTo')
    // Load once here so bad lines are reported once, and a bad file stops us before anything binds.
    await loadMapLogged(mapFile, o.strict === true, logger)
    gateway = new Gateway({
      bind: positionalOr('bind', positionalBind, o.bind, given('bind')),
      workersBind: o.workersBind,
      ...(o.status !== undefined ? { statusBind: o.status } : {}),
      mapFile,
      maxWorkers: positionalOr('max-workers', positionalWorkers, o.maxWorkers, given('maxWorkers')),
      minWorkers: given('minWorkers') ? o.minWorkers : undefined,
      idleTimeoutMs: o.idleTimeout,
      capacity: o.capacity,
      maxWorkerCapacity: o.maxWorkerCapacity,
      holdTimeoutMs: o.holdTimeout,
      concurrency: o.concurrency,
      commandTimeoutMs: o.commandTimeout,
      queueLimit: o.queueLimit,
      queueBytes: o.queueBytes,
      maxBatch: o.maxBatch,
      maxAttempts: o.maxAttempts,
      graceMs: o.grace,
      heartbeatIntervalMs: o.heartbeat,
      maxMessageBytes: o.maxMessageSize,
      logger,
    })
    await gateway.start()
  } catch (error) {
    reportError('run-server', error, verbose)
    return exitCodeFor(error)
  }
  process.stdout.write(`listening ${gateway.endpoint}\n`)
  let signals = 0
  let forced = false
  const closed = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (++signals === 1) {
        logger.info({ signal }, 'shutting down: workers finish what they hold (signal again to force)')
        background(gateway.close().finally(resolve), logger, 'shutdown')
      } else {
        forced = true
        logger.warn({ signal }, 'second signal: killing workers and exiting')
        // close({ force }) SIGKILLs every worker at once; give it a moment to reap them, no more.
        background(Promise.race([gateway.close({ force: true }), new Promise((r) => setTimeout(r, 1000))]).finally(resolve), logger, 'forced shutdown')
      }
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
  await closed
  const s = gateway.stats
  process.stdout.write(
    `served ${s.completed} batches · ${s.received} messages · ${s.malformed} malformed · ` +
      `${Object.values(s.rejected).reduce((a, b) => a + b, 0)} rejected · ${s.workersLost} workers lost\n`,
  )
  return forced ? ExitCode.Interrupted : ExitCode.Ok
}

const code = await main(process.argv)
process.exitCode = code
// A second signal asked for an exit now; stdout (file or pipe) is written synchronously on Linux.
if (code === ExitCode.Interrupted) process.exit(code)
// Everything is closed; if a stray handle still holds the loop, do not hang the shell.
setTimeout(() => process.exit(code), 2000).unref()
