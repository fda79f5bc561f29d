/**
 * gateway-status: ask a gateway (`run-server --status <endpoint>`) for its
 * queue, workers and counters, and print them; with `--watch`, again every
 * few seconds until Ctrl+C. Thin: flags (from the status option schema) map
 * onto requestStatus(), then formatStatus().
 */
import { setTimeout as delay } from 'node:timers/promises'
import { Command } from '@commander-js/extra-typings'
import { StatusError, errorMessage } from '../errors.js'
import { formatStatus, requestStatus, type GatewayStatus } from '../gateway/status.js'
import { addSchemaFlags, argParserFor } from '../options/flags.js'
import { endpoint } from '../options/kinds.js'
import { statusSchema } from '../options/status.js'
import { WATCH_DEFAULT_SECONDS } from '../options/watch.js'
import { terminalSafe, terminalSafeJson } from '../util/terminal-text.js'
import { ExitCode, VERSION, exitCodeFor, parseArgv, reportError, resolveCommandLine, sourcesHelp } from './common.js'

const EXAMPLES = `
Examples:
  $ run-server devices.txt tcp://0.0.0.0:5557 --status tcp://127.0.0.1:5559
  $ gateway-status tcp://127.0.0.1:5559
  $ gateway-status tcp://127.0.0.1:5559 --json | jq .queue

  # redraw every 2 s (or --watch 0.5) until Ctrl+C; piped, each snapshot after a blank line
  $ gateway-status tcp://127.0.0.1:5559 --watch
  $ gateway-status tcp://127.0.0.1:5559 --watch 10 --json >> status.ndjson

  # a gateway with CURVE on: this operator's certificate must be in its --admins-allow
  $ gateway-status tcp://gw:5559 --curve-secret ~/.curve/ops.key_secret --server-key ~/.curve/gateway.key

Prints the queue depth per client, the connected workers (forked or remote, capacity,
batches in flight, batches served, last heard), the gateway's counters and its last
minute's batches and commands per second.
With --watch, a gateway that does not answer shows an "unreachable, retrying" line (on
stderr with --json, which prints one JSON object per line) and is asked again.
Exit codes: 0 answered (or --watch ended by Ctrl+C) · 1 no answer within --timeout (or the
key was refused) · 2 bad usage
`

function buildProgram() {
  const program = new Command('gateway-status')
    .description("Print a command gateway's status: queue per client, workers and counters.")
    .version(VERSION)
    .argument('<endpoint>', "the gateway's status endpoint (run-server --status)", argParserFor(endpoint('connect')))
  const flags = addSchemaFlags(program, statusSchema)
  program.addHelpText('after', `${EXAMPLES}${sourcesHelp('timeout', '5000')}`)
  return { program, flags }
}

/**
 * `--watch` given alone (last, or before a word that is not a number, such
 * as the endpoint): commander would take the next word as its SECONDS, so
 * the default is written in. `--watch=N` and `--watch N` pass as they are.
 */
function withWatchSeconds(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    out.push(arg)
    if (arg === '--') {
      out.push(...argv.slice(i + 1))
      break
    }
    if (arg === '--watch' && !/^[0-9.]/.test(argv[i + 1] ?? '')) out.push(String(WATCH_DEFAULT_SECONDS))
  }
  return out
}

type RequestOptions = Exclude<Parameters<typeof requestStatus>[1], number | undefined>

async function main(argv: string[]): Promise<number> {
  const { program, flags } = buildProgram()
  program.exitOverride()
  const answered = parseArgv(program, withWatchSeconds(argv))
  if (answered !== undefined) return answered
  const [target] = program.processedArgs
  let json: boolean
  let watchSeconds: number | undefined
  let options: RequestOptions
  try {
    const { values: o } = resolveCommandLine('gateway-status', statusSchema, flags)
    const { json: asJson, watch, config: _config, ...rest } = o
    json = asJson
    watchSeconds = watch
    options = rest
  } catch (error) {
    reportError('gateway-status', error, false)
    return exitCodeFor(error)
  }
  if (watchSeconds !== undefined) return watchStatus(target, options, json, watchSeconds)
  try {
    const status = await requestStatus(target, options)
    process.stdout.write(json ? `${terminalSafeJson(status)}\n` : `${formatStatus(status)}\n`)
    return ExitCode.Ok
  } catch (error) {
    reportError('gateway-status', error, false)
    return exitCodeFor(error)
  }
}

/** Clear the screen, then home the cursor: what watch(1) does before each redraw. */
const CLEAR = '\x1b[2J\x1b[H'

/**
 * A snapshot cut to the terminal, as watch(1) cuts it: lines to one column
 * less than its width, the whole to one row less than its height. A line
 * that wrapped, or a snapshot taller than the window, would scroll the
 * header (and the first lines) off the screen at every redraw. Read at each
 * redraw, so a resized window is filled at the next one.
 */
function fitScreen(text: string): string {
  const { columns, rows } = process.stdout
  if (!(columns > 1 && rows > 1)) return text
  const lines = text.split('\n').slice(0, rows - 1)
  return lines.map((line) => (line.length < columns ? line : Array.from(line).slice(0, columns - 1).join(''))).join('\n')
}

/**
 * Asks for the status every `seconds` (counted from the start of each
 * request, so a slow answer does not stretch the rhythm) and prints it, until
 * SIGINT, which ends the wait or the request at once and exits 0. On a TTY
 * each snapshot replaces the last; elsewhere they follow each other, a blank
 * line apart (`--json`: one object per line). A gateway that does not answer
 * gets a line saying so and is asked again; a bad certificate is a usage error.
 */
async function watchStatus(target: string, options: RequestOptions, json: boolean, seconds: number): Promise<number> {
  const stop = new AbortController()
  const onSigint = (): void => stop.abort()
  process.once('SIGINT', onSigint)
  const tty = process.stdout.isTTY === true
  const every = `Every ${seconds} s: gateway-status ${terminalSafe(target)}`
  let first = true
  const show = (text: string): void => {
    const header = `${every} · ${new Date().toISOString()}`
    if (json) process.stdout.write(`${text}\n`)
    else if (tty) process.stdout.write(`${CLEAR}${fitScreen(`${header}\n\n${text}`)}\n`)
    else process.stdout.write(`${first ? '' : '\n'}${header}\n${text}\n`)
    first = false
  }
  try {
    while (!stop.signal.aborted) {
      const started = performance.now()
      let status: GatewayStatus | undefined
      try {
        status = await requestStatus(target, { ...options, signal: stop.signal })
      } catch (error) {
        if (stop.signal.aborted) break
        if (!(error instanceof StatusError)) {
          reportError('gateway-status', error, false)
          return exitCodeFor(error)
        }
        const line = `gateway-status: unreachable, retrying every ${seconds} s (${terminalSafe(errorMessage(error), { escapeBackslash: false })})`
        if (json) process.stderr.write(`${line}\n`)
        else show(line)
      }
      if (status !== undefined) show(json ? terminalSafeJson(status) : formatStatus(status))
      const waitMs = seconds * 1000 - (performance.now() - started)
      if (waitMs > 0) await delay(waitMs, undefined, { signal: stop.signal }).catch(() => undefined)
    }
    return ExitCode.Ok
  } finally {
    process.off('SIGINT', onSigint)
  }
}

process.exitCode = await main(process.argv)
