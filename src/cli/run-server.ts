/**
 * run-server: the gateway and its forked workers. Thin: flags (from the
 * gateway's option schema) map onto GatewayOptions; signals onto Gateway.close().
 */
import { Command } from '@commander-js/extra-typings'
import { ConfigError } from '../errors.js'
import { Gateway, gatewayDefaults } from '../gateway/gateway.js'
import { createLogger, type Logger } from '../log.js'
import { argParserFor, addSchemaFlags } from '../options/flags.js'
import { gatewaySchema } from '../options/gateway.js'
import { background } from '../util/background.js'
import { ExitCode, VERSION, exitCodeFor, parseArgv, reportError, resolveCommandLine, sourcesHelp } from './common.js'
import { executorFromFlags } from '../options/executor.js'
import { checkChecksFile, checkDeviceMap, checkExecutorModule } from './executor-flags.js'

const EXAMPLES = `
Examples:
  # the original's order: map file, intake bind, client (ignored), max workers
  $ run-server tests/data/server_data.txt tcp://127.0.0.1:5557 tcp://127.0.0.1:5556 32

  # named options; accept remote workers too
  $ run-server -m devices.txt -b 'tcp://0.0.0.0:5557' -w 8 --workers-bind tcp://0.0.0.0:5558

  # real checks (exec, tcp, http) from a checks file; exact pairs of a device map answer first
  $ run-server --checks checks.toml --map devices.txt -w 4

  # your own executor module in every forked worker; options from a file and the environment
  $ CGW_CONCURRENCY=4096 run-server --executor ./my-executor.mjs --executor-options '{"retries":2}' --config gateway.toml

  # CURVE: only listed clients, workers and operators; results only to the data centre's hosts
  $ run-server -m devices.txt -b 'tcp://0.0.0.0:5557' --curve-secret keys/gateway.key_secret \\
      --clients-allow keys/clients --workers-bind tcp://0.0.0.0:5558 --workers-allow keys/workers \\
      --status tcp://0.0.0.0:5560 --admins-allow keys/admins --reply-allow '10.0.0.0/8,*.dc1.example'

Executor: --map FILE (or the first argument) simulates the devices of a map file; it is
shorthand for --executor device-map --executor-options '{"file":"FILE"}'. --checks FILE
runs the real checks of a checks file (docs/CHECKS.md); a --map beside it answers its
exact address/command pairs first. Any other module
whose default export is createExecutor(options, context) works the same way, in every
forked worker. run-server makes one executor itself at start, to check the module, and
closes it. With -w 0 the gateway forks none and needs neither.

Map file: one "address:command:response:wait" per line: after wait seconds the device
answers response (an integer). A later duplicate entry wins, with a warning.

Results go straight from the workers to each batch's replyTo; [client] is accepted
only so that the original's argument order still works.

CURVE (--curve-secret): the intake, the worker port and the status port take only the keys
in --clients-allow, --workers-allow (plus the gateway's own, which forked workers present)
and --admins-allow; every one of those needed for a port that is open is required, and an
empty directory admits no one. SIGHUP re-reads the directories: new connections use the
new lists, connections already made stay. Without --curve-secret SIGHUP is not handled.
--reply-allow drops, unanswered, every task whose replyTo is outside the list (not-allowed).

Ctrl+C or SIGTERM: stop intake, reject queued batches (shutting-down), let workers finish
and deliver what they hold (up to --grace), then exit 0. A second signal forces the exit.
When ready, one line "listening <endpoint>" is printed on stdout.
`

function buildProgram() {
  const program = new Command('run-server')
    .description("Run a command gateway: queue clients' batches and run them on forked workers.")
    .version(VERSION)
    .argument('[map-file]', 'device map file (same as --map)')
    .argument('[bind]', 'intake endpoint to bind (same as --bind)', argParserFor(gatewaySchema.bind.kind))
    .argument('[client]', "ignored: results go to each batch's replyTo")
    .argument('[max-workers]', 'most forked workers (same as --max-workers)', argParserFor(gatewaySchema.maxWorkers.kind))
  const flags = addSchemaFlags(program, gatewaySchema)
  program.addHelpText('after', `${EXAMPLES}${sourcesHelp('max-workers', '8')}`)
  return { program, flags }
}

async function main(argv: string[]): Promise<number> {
  const { program, flags } = buildProgram()
  program.exitOverride()
  const answered = parseArgv(program, argv)
  if (answered !== undefined) return answered
  const [mapFile, bind, positionalClient, maxWorkers] = program.processedArgs
  let gateway: Gateway
  let logger: Logger | undefined
  try {
    const { values: o, sources, warnings } = resolveCommandLine('run-server', gatewaySchema, flags, { mapFile, bind, maxWorkers })
    logger = createLogger({ level: o.logLevel })
    for (const warning of warnings) logger.warn(warning)
    if (positionalClient !== undefined) logger.debug({ client: positionalClient }, "client endpoint ignored: results go to each batch's replyTo")
    const { mapFile: _map, checksFile: _checks, executorModule: _module, executorOptions: _options, strict, logLevel: _level, config: _config, ...options } = o
    const executor = executorFromFlags(o, sources)
    const forks = (options.maxWorkers ?? gatewayDefaults.maxWorkers) > 0
    if (executor === undefined && forks) {
      throw new ConfigError(
        'ERR_INVALID_OPTION',
        'a device map file (run-server <map-file> or --map), a checks file (--checks) or --executor MODULE is required, unless -w 0 (remote workers only)',
      )
    }
    await checkDeviceMap(executor, strict, logger)
    await checkChecksFile(executor)
    if (executor !== undefined && forks) await checkExecutorModule(executor, logger)
    gateway = new Gateway({ ...options, ...(executor === undefined ? {} : { executor }), logger })
    logger.debug({ sources }, 'where each option came from')
    await gateway.start()
  } catch (error) {
    reportError('run-server', error, logger?.isLevelEnabled('debug') === true)
    return exitCodeFor(error)
  }
  return serve(gateway, logger)
}

/** Until the first signal closes the gateway: prints the endpoint, then the totals. */
async function serve(gateway: Gateway, logger: Logger): Promise<number> {
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
  // Only now: whoever waits for this line may signal at once, and a signal before the
  // handlers above would kill the process with the default action, workers unreaped.
  process.stdout.write(`listening ${gateway.endpoint}\n`)
  // Key rotation, as daemons reload: only with CURVE, so a plaintext gateway keeps SIGHUP's default.
  if (gateway.curvePublicKey !== undefined) {
    process.on('SIGHUP', () => {
      logger.info({ signal: 'SIGHUP' }, 're-reading the allow-lists')
      background(gateway.reloadAllowLists(), logger, 'allow-list reload')
    })
  }
  await closed
  const s = gateway.stats
  process.stdout.write(
    `served ${s.completed} batches · ${s.received} messages · ${s.malformed} malformed · ` +
      `${Object.values(s.rejected).reduce((a, b) => a + b, 0)} rejected · ${s.workersLost} workers lost` +
      (gateway.curvePublicKey === undefined ? '' : ` · ${s.refused.intake + s.refused.workers + s.refused.status} connections refused`) +
      '\n',
  )
  return forced ? ExitCode.Interrupted : ExitCode.Ok
}

const code = await main(process.argv)
process.exitCode = code
// A second signal asked for an exit now; stdout (file or pipe) is written synchronously on Linux.
if (code === ExitCode.Interrupted) process.exit(code)
// Everything is closed; if a stray handle still holds the loop, do not hang the shell.
setTimeout(() => process.exit(code), 2000).unref()
