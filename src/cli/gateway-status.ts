/**
 * gateway-status: ask a gateway (`run-server --status <endpoint>`) for its
 * queue, workers and counters, and print them. Thin: flags (from the status
 * option schema) map onto requestStatus(), then formatStatus().
 */
import { Command } from '@commander-js/extra-typings'
import { formatStatus, requestStatus } from '../gateway/status.js'
import { addSchemaFlags, argParserFor } from '../options/flags.js'
import { endpoint } from '../options/kinds.js'
import { statusSchema } from '../options/status.js'
import { ExitCode, VERSION, exitCodeFor, parseArgv, reportError, resolveCommandLine, sourcesHelp } from './common.js'

const EXAMPLES = `
Examples:
  $ run-server devices.txt tcp://0.0.0.0:5557 --status tcp://127.0.0.1:5559
  $ gateway-status tcp://127.0.0.1:5559
  $ gateway-status tcp://127.0.0.1:5559 --json | jq .queue

  # a gateway with CURVE on: this operator's certificate must be in its --admins-allow
  $ gateway-status tcp://gw:5559 --curve-secret ~/.curve/ops.key_secret --server-key ~/.curve/gateway.key

Prints the queue depth per client, the connected workers (forked or remote, capacity,
batches in flight, batches served, last heard) and the gateway's counters.
Exit codes: 0 answered · 1 no answer within --timeout (or the key was refused) · 2 bad usage
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

async function main(argv: string[]): Promise<number> {
  const { program, flags } = buildProgram()
  program.exitOverride()
  const answered = parseArgv(program, argv)
  if (answered !== undefined) return answered
  const [target] = program.processedArgs
  let json: boolean
  let options: Parameters<typeof requestStatus>[1]
  try {
    const { values: o } = resolveCommandLine('gateway-status', statusSchema, flags)
    const { json: asJson, config: _config, ...rest } = o
    json = asJson
    options = rest
  } catch (error) {
    reportError('gateway-status', error, false)
    return exitCodeFor(error)
  }
  try {
    const status = await requestStatus(target, options)
    process.stdout.write(json ? `${JSON.stringify(status)}\n` : `${formatStatus(status)}\n`)
    return ExitCode.Ok
  } catch (error) {
    reportError('gateway-status', error, false)
    return exitCodeFor(error)
  }
}

process.exitCode = await main(process.argv)
