/**
 * gateway-status: ask a gateway (`run-server --status <endpoint>`) for its
 * queue, workers and counters, and print them. Thin: requestStatus() and
 * formatStatus().
 */
import { Command, Option } from '@commander-js/extra-typings'
import { formatStatus, requestStatus } from '../gateway/status.js'
import { argParserFor } from '../options/flags.js'
import { endpoint, integer } from '../options/kinds.js'
import { ExitCode, VERSION, parseArgv, reportError } from './common.js'

const EXAMPLES = `
Examples:
  $ run-server devices.txt tcp://0.0.0.0:5557 --status tcp://127.0.0.1:5559
  $ gateway-status tcp://127.0.0.1:5559
  $ gateway-status tcp://127.0.0.1:5559 --json | jq .queue

Prints the queue depth per client, the connected workers (forked or remote, capacity,
batches in flight, batches served, last heard) and the gateway's counters.
Exit codes: 0 answered · 1 no answer within --timeout · 2 bad usage
`

function buildProgram() {
  return new Command('gateway-status')
    .description("Print a command gateway's status: queue per client, workers and counters.")
    .version(VERSION)
    .argument('<endpoint>', "the gateway's status endpoint (run-server --status)", argParserFor(endpoint('connect')))
    .option('--json', 'print the status as JSON')
    .addOption(new Option('--timeout <ms>', 'give up after this long without an answer').argParser(argParserFor(integer(1))).default(3000, '3000 ms'))
    .addHelpText('after', EXAMPLES)
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride()
  const answered = parseArgv(program, argv)
  if (answered !== undefined) return answered
  const [endpoint] = program.processedArgs
  const o = program.opts()
  try {
    const status = await requestStatus(endpoint, o.timeout)
    process.stdout.write(o.json === true ? `${JSON.stringify(status)}\n` : `${formatStatus(status)}\n`)
    return ExitCode.Ok
  } catch (error) {
    reportError('gateway-status', error, false)
    return ExitCode.Lost
  }
}

process.exitCode = await main(process.argv)
