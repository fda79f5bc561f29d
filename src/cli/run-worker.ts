/**
 * run-worker: a worker on another host, joining a gateway's worker port over
 * TCP. The same Worker as the forked ones; thin: flags (from the worker's
 * option schema) map onto WorkerOptions, signals onto Worker.stop() and close({ force }).
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { Command } from '@commander-js/extra-typings'
import { ConfigError } from '../errors.js'
import { loadExecutor } from '../executors/load.js'
import { createLogger, type Logger } from '../log.js'
import { addSchemaFlags } from '../options/flags.js'
import { workerSchema } from '../options/worker.js'
import { background } from '../util/background.js'
import { Worker } from '../worker/worker.js'
import { ExitCode, VERSION, exitCodeFor, parseArgv, reportError, resolveCommandLine, sourcesHelp } from './common.js'
import { executorFromFlags } from '../options/executor.js'
import { checkChecksFile, checkDeviceMap } from './executor-flags.js'

const EXAMPLES = `
Examples:
  # the gateway opens its worker port to the network, and forks no worker of its own
  $ run-server devices.txt tcp://0.0.0.0:5557 -w 0 --workers-bind tcp://0.0.0.0:5558
  # on each worker host
  $ run-worker --gateway tcp://gateway-host:5558 --map devices.txt --concurrency 4096
  # or real checks (docs/CHECKS.md), or any executor module (its default export: createExecutor(options, context))
  $ run-worker -g tcp://gateway-host:5558 --checks /etc/cgw/checks.toml
  $ run-worker -g tcp://gateway-host:5558 --executor ./my-executor.mjs --executor-options '{"retries":2}'
  # CURVE: this worker's certificate (in the gateway's --workers-allow) and the gateway's public one
  $ run-worker -g tcp://gateway-host:5558 --map devices.txt --curve-secret worker1.key_secret --server-key gateway.key
  # Prometheus metrics at http://127.0.0.1:9101/metrics (no host: 127.0.0.1; there is no authentication)
  $ run-worker -g tcp://gateway-host:5558 --map devices.txt --http 9101

It says ready with its capacity, and again after every reconnect: a silent gateway
(--heartbeat-liveness heartbeats) makes it reconnect with back-off, one heartbeat doubling to 32 s.
The gateway's poison pill (its shutdown) or Ctrl+C here: it finishes and delivers
what it holds, says bye and exits 0. A second Ctrl+C exits at once (130).
With --http, one line "metrics <url>" is printed on stdout once the listener is bound;
an address that cannot be bound (a port in use) exits 2 before joining the gateway.
`

function buildProgram() {
  const program = new Command('run-worker')
    .description('Run a worker on this host for a command gateway: simulate the devices of a map file, run real checks from a checks file, or run any executor module.')
    .version(VERSION)
  const flags = addSchemaFlags(program, workerSchema)
  program.addHelpText('after', `${EXAMPLES}${sourcesHelp('concurrency', '4096')}`)
  return { program, flags }
}

async function main(argv: string[]): Promise<number> {
  const { program, flags } = buildProgram()
  program.exitOverride()
  const answered = parseArgv(program, argv)
  if (answered !== undefined) return answered
  let logger: Logger | undefined
  let worker: Worker
  let endpoint: string
  let metricsUrl: string | undefined
  try {
    const { values: o, sources, warnings } = resolveCommandLine('run-worker', workerSchema, flags)
    logger = createLogger({ level: o.logLevel, bindings: { role: 'worker' } })
    for (const warning of warnings) logger.warn(warning)
    logger.debug({ sources }, 'where each option came from')
    const { mapFile: _map, checksFile: _checks, executorModule: _module, executorOptions: _options, strict, logLevel: _level, config: _config, gateway, ...options } = o
    const spec = executorFromFlags(o, sources)
    if (spec === undefined) throw new ConfigError('ERR_INVALID_OPTION', 'an executor is required: --map FILE (the device map), --checks FILE (real checks) or --executor MODULE')
    if (gateway === undefined) throw new ConfigError('ERR_INVALID_OPTION', '--gateway is required') // resolveCommandLine checked it
    endpoint = gateway
    await checkDeviceMap(spec, strict, logger)
    await checkChecksFile(spec)
    // The executor learns the worker's id, so the id is fixed here rather than left to Worker.
    const id = options.id ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
    const executor = await loadExecutor(spec, { workerId: id, logger, commandTimeoutMs: options.commandTimeoutMs })
    worker = new Worker({ ...options, gateway, id, executor, logger })
    metricsUrl = await listen(worker)
  } catch (error) {
    reportError('run-worker', error, logger?.isLevelEnabled('debug') === true)
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
  // After the handlers: whoever waits for this line may signal at once.
  if (metricsUrl !== undefined) process.stdout.write(`metrics ${metricsUrl}\n`)
  await worker.warmUp()
  worker.start()
  logger.info({ gateway: endpoint, id: worker.id, ...(metricsUrl === undefined ? {} : { metrics: metricsUrl }) }, 'worker started')
  await worker.closed
  return forced ? ExitCode.Interrupted : ExitCode.Ok
}

/**
 * Binds `--http`, if given, and returns where `/metrics` is. A bind that
 * fails closes the worker (and its executor) before the error goes up.
 */
async function listen(worker: Worker): Promise<string | undefined> {
  let url: string | undefined
  try {
    url = await worker.listen()
  } catch (error) {
    await worker.close()
    throw error
  }
  return url === undefined ? undefined : `${url}/metrics`
}

const code = await main(process.argv)
process.exitCode = code
// Sockets closed with linger let ZeroMQ finish delivering; never hang the shell after that.
setTimeout(() => process.exit(code), 2000).unref()
