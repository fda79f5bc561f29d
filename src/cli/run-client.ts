/**
 * run-client: send a commands file through one or more gateways and print
 * the summary. Thin: flags (from the client's option schema) map onto
 * ClientOptions, then Client.run().
 */
import { close, constants, createWriteStream, fstat } from 'node:fs'
import { once } from 'node:events'
import { Socket } from 'node:net'
import type { Writable } from 'node:stream'
import { Command } from '@commander-js/extra-typings'
import { Client, type CommandRecord } from '../client/client.js'
import { ProgressMeter, formatProgress } from '../client/progress.js'
import { formatSummary } from '../client/summary.js'
import { countCommandLines } from '../data/count-commands.js'
import { createLogger, stderrStatus, type Logger } from '../log.js'
import type { CliOptions } from '../options/cli.js'
import { clientSchema } from '../options/client.js'
import { addSchemaFlags, argParserFor } from '../options/flags.js'
import { background } from '../util/background.js'
import { ConfigError, errorMessage } from '../errors.js'
import { openTracked, releasePendingOpens } from '../util/pending-opens.js'
import { terminalSafe, terminalSafeJson } from '../util/terminal-text.js'
import { ExitCode, VERSION, exitCodeFor, parseArgv, reportError, resolveCommandLine, sourcesHelp } from './common.js'

const EXAMPLES = `
Examples:
  # the original's order: file, batch size, results bind, gateway
  $ run-client tests/data/client_data.txt 16 tcp://127.0.0.1:5556 tcp://127.0.0.1:5557

  # named options, any free port for results, two gateways, JSON summary
  $ run-client commands.txt -n 64 -b 'tcp://127.0.0.1:*' -s tcp://gw1:5557 tcp://gw2:5557 --json

  # keep one line per command (line, address, command, code, outcome, value, ms, worker)
  $ run-client commands.txt --output results.jsonl

  # checks: exit 1 on a CRITICAL too, not only on commands without a proper answer
  $ run-client checks.txt --fail-on lost,unknown,failed,timeout,state:critical

  # CURVE: this client's certificate, the gateway's public one, and results only from listed workers
  $ run-client commands.txt -s tcp://gw1:5557 --curve-secret client.key_secret --server-key gw1.key \
      --workers-allow workers/ -b tcp://10.0.0.5:5556

  # read the commands from stdin ("-"), or from a FIFO as another program writes them
  $ generate-commands | run-client - -s tcp://gw1:5557
  $ mkfifo cmds.fifo && run-client cmds.fifo &   # waits for a writer; Ctrl+C still works
  $ generate-commands > cmds.fifo

Commands file: one "address:command" per line; address is IPv4, IPv6 ([::1]:foo also works)
or a host name; command is a token of [A-Za-z0-9_.-]. Blank lines and # comments are skipped.
"-" reads standard input (./- for a file named "-"). A FIFO or stdin is read as it is written,
until the writer closes it; --strict needs a regular file (it reads the file twice).
Bad lines: the first 100 are logged, the rest counted.

Exit codes: 0 nothing that --fail-on names happened · 1 something did (default: a command lost,
            unknown, failed or timed out; the summary says which) · 2 bad usage or unreadable input
            130 interrupted (Ctrl+C prints the partial summary)
`

function buildProgram() {
  const program = new Command('run-client')
    .description('Send the commands of a file to command gateways and print a summary of the results.')
    .version(VERSION)
    .argument('<commands-file>', 'file of address:command lines; - reads stdin')
    .argument('[batch-size]', 'commands per batch (same as --batch-size)', argParserFor(clientSchema.batchSize.kind))
    .argument('[bind]', 'results endpoint to bind (same as --bind)', argParserFor(clientSchema.bind.kind))
    .argument('[server]', 'gateway endpoint (same as --server)', argParserFor(clientSchema.servers.kind))
  const flags = addSchemaFlags(program, clientSchema)
  program.addHelpText('after', `${EXAMPLES}${sourcesHelp('batch-size', '64')}`)
  return { program, flags }
}

async function main(argv: string[]): Promise<number> {
  const { program, flags } = buildProgram()
  program.exitOverride()
  const answered = parseArgv(program, argv)
  if (answered !== undefined) return answered
  const [file, batchSize, bind, servers] = program.processedArgs
  let o: CliOptions<typeof clientSchema>
  let logger: Logger | undefined
  let client: Client
  let output: Writable | undefined
  // While the --output file lags behind, stop reading commands, so its buffer stays bounded.
  // One wait shared by every batch that asks meanwhile: after Ctrl+C the batches left are
  // settled (lost) one after another without waiting, and a listener pair each would pile
  // up on the stream (MaxListenersExceededWarning).
  let drained: Promise<void> | undefined
  const waitForOutput = (): Promise<void> | undefined => {
    if (output === undefined || !output.writableNeedDrain || output.destroyed) return undefined
    drained ??= once(output, 'drain').then(
      () => {
        drained = undefined
      },
      () => undefined,
    )
    return drained
  }
  try {
    const resolved = resolveCommandLine('run-client', clientSchema, flags, { batchSize, bind, servers })
    o = resolved.values
    logger = createLogger({ level: o.logLevel })
    for (const warning of resolved.warnings) logger.warn(warning)
    logger.debug({ sources: resolved.sources }, 'where each option came from')
    const { output: _output, json: _json, progress: _progress, logLevel: _level, config: _config, ...options } = o
    client = new Client({ ...options, beforeBatch: waitForOutput, logger })
  } catch (error) {
    reportError('run-client', error, logger?.isLevelEnabled('debug') === true)
    return exitCodeFor(error)
  }
  const verbose = logger.isLevelEnabled('debug')
  // Signals first: opening --output on a FIFO waits for its reader, and Ctrl+C must work then too.
  let interrupts = 0
  const onSignal = (signal: NodeJS.Signals): void => {
    // An open() blocked on a FIFO holds a libuv thread, which even process.exit() waits for: let it go.
    const stuck = releasePendingOpens()
    if (++interrupts > 1) {
      const status = stderrStatus()
      status.clear()
      status.log(`run-client: second ${signal}; exiting now\n`)
      if (stuck.length > 0) {
        // process.exit() would wait for the stuck open() for ever; die of the signal instead (the shell sees 130).
        status.log(`run-client: an open() of ${terminalSafe(stuck.join(', '), { escapeBackslash: false })} cannot be ended; exiting by ${signal}\n`)
        process.removeAllListeners(signal)
        process.kill(process.pid, signal)
      }
      process.exit(ExitCode.Interrupted)
    }
    background(client.interrupt(), logger, 'interrupt')
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  if (o.output !== undefined) {
    try {
      // Find out now, not after the run, that the file cannot be written.
      output = await openOutput(o.output)
    } catch (error) {
      reportError('run-client', new ConfigError('ERR_INVALID_OPTION', `cannot write --output ${o.output}: ${errorMessage(error)}`), false)
      return ExitCode.Usage
    }
    const stream = output
    stream.on('error', (error) => logger.error({ err: error.message, file: o.output }, 'cannot write --output file'))
    client.on('records', (records: CommandRecord[]) => {
      let text = ''
      for (const record of records) text += `${terminalSafeJson(record)}\n`
      stream.write(text)
    })
  }
  const showProgress = o.progress ?? process.stderr.isTTY === true
  const progress = showProgress ? startProgress(client, file) : undefined
  try {
    const summary = await client.run(file)
    progress?.stop()
    process.stdout.write(o.json ? `${terminalSafeJson(summary)}\n` : `${formatSummary(summary)}\n`)
    return summary.exitCode
  } catch (error) {
    progress?.stop()
    reportError('run-client', error, verbose)
    return exitCodeFor(error)
  } finally {
    if (output !== undefined) {
      output.end()
      // After Ctrl+C, a reader that stopped reading (a stalled pipe) gets 2 s, not for ever.
      const closed = once(output, 'close').catch(() => undefined)
      if (interrupts === 0) await closed
      else {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))])
        clearTimeout(timer)
        output.destroy()
      }
    }
  }
}

/**
 * Opens the --output file: a file stream for a file, a socket over the event
 * loop for a FIFO (its writes never hold a libuv thread). The open itself is
 * tracked, so Ctrl+C can release it while a FIFO waits for its reader.
 */
async function openOutput(path: string): Promise<Writable> {
  const fd = await openTracked(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC)
  const isFifo = await new Promise<boolean>((resolve, reject) =>
    fstat(fd, (error, stats) => {
      if (error === null) resolve(stats.isFIFO() || stats.isSocket())
      else {
        close(fd, () => undefined)
        reject(error)
      }
    }),
  )
  return isFifo ? new Socket({ fd, readable: false, writable: true }) : createWriteStream('', { fd })
}

/**
 * The progress line on stderr (src/client/progress.ts says what it shows),
 * drawn through the stderr line owner that the logger writes through too, so
 * a log line is printed above it, never glued to it. It reads the client's
 * counters ten times a second; nothing is done per command.
 */
/**
 * Draws the progress line ten times a second. A regular file's command lines
 * are counted meanwhile, so the line has a percentage and an ETA long before
 * the window lets the reader reach the end of the file.
 */
function startProgress(client: Client, file: string): { stop(): void } {
  const meter = new ProgressMeter()
  const status = stderrStatus()
  const counting = new AbortController()
  let expected: number | undefined
  void countCommandLines(file, counting.signal).then((count) => (expected = count))
  const draw = (): void => {
    const counters = client.progress
    status.update(formatProgress(meter.read(expected === undefined ? counters : { ...counters, expected })))
  }
  const timer = setInterval(draw, 100)
  timer.unref()
  return {
    stop() {
      counting.abort()
      clearInterval(timer)
      status.clear()
    },
  }
}

process.exitCode = await main(process.argv)
