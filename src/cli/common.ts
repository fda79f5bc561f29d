/**
 * What the CLIs share: flags from the option schemas, the version, and the
 * mapping from errors to exit codes.
 */
import { readFileSync } from 'node:fs'
import { CommanderError, type CommandUnknownOpts } from '@commander-js/extra-typings'
import { ConfigError, InputError, errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import { resolveCli, type CliResolution } from '../options/cli.js'
import type { FlagReader } from '../options/flags.js'
import { allEnvNames } from '../options/roles.js'
import { envName, type CliValues, type Schema } from '../options/types.js'
import { loadDeviceMap, type DeviceMap } from '../data/device-map.js'
import { CappedLineLog, unloggedLine } from '../data/bad-lines.js'
import { terminalSafe } from '../util/terminal-text.js'
import { installCrashReport } from '../util/crash-report.js'

installCrashReport(process.argv[1]?.split('/').pop()?.replace(/\.js$/, '') ?? 'cli')

// `run-client … | head` closes stdout early: that is the reader's choice, not an error to crash on.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw error
})

/** Exit codes of the CLIs. */
export const ExitCode = { Ok: 0, Lost: 1, Usage: 2, Interrupted: 130 } as const

export const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version

/**
 * The help text on where options come from, after each command's examples;
 * `flag` and `value` are one of the command's own options (`max-workers`, `8`).
 */
export function sourcesHelp(flag: string, value: string): string {
  return `
Every option can also be set in the environment, as CGW_ and the long flag in upper
snake case (${envName(flag)}=${value}), or in a TOML file given with --config FILE (or
CGW_CONFIG), keyed by the long flag (${flag} = ${value}). Precedence: flag, environment,
config file, default.
`
}

/** The command's options from its flags and positional arguments, the environment and its --config file. */
export function resolveCommandLine<S extends Schema>(command: string, schema: S, flags: FlagReader<S>, positional: CliValues<S> = {}): CliResolution<S> {
  return resolveCli(schema, { command, flags, positional, env: process.env, knownElsewhere: allEnvNames })
}

/** Exit code for an error that ended a CLI: 2 for usage and input problems, 1 otherwise. */
export function exitCodeFor(error: unknown): number {
  return error instanceof ConfigError || error instanceof InputError ? ExitCode.Usage : ExitCode.Lost
}

// Messages quote file lines, endpoints, arguments and answers from the network: nothing raw reaches the terminal.
const safe = (text: string): string => terminalSafe(text, { escapeBackslash: false })

/** Prints an error the way a user wants to read it: one line, the stack only with --log-level debug. */
export function reportError(program: string, error: unknown, verbose: boolean): void {
  process.stderr.write(`${program}: ${safe(errorMessage(error))}\n`)
  if (verbose && error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack.split('\n').map(safe).join('\n')}\n`)
}

/**
 * Parses `argv` with a program built with `.exitOverride()`. Returns the exit
 * code when commander has already answered (help, version: 0; bad usage: 2,
 * its message already printed), or `undefined` to go on.
 */
export function parseArgv(program: CommandUnknownOpts, argv: readonly string[]): number | undefined {
  // Commander quotes the offending argument in its own errors (`argument '…' is invalid`).
  program.configureOutput({ outputError: (text, write) => write(text.split('\n').map(safe).join('\n')) })
  try {
    program.parse(argv)
    return undefined
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage
    throw error
  }
}

/**
 * Loads a device map for a CLI: the first 100 bad lines and the first 100
 * duplicates logged as `file:line: reason`, then one line counting the rest;
 * the size at info.
 */
export async function loadMapLogged(path: string, strict: boolean, logger: Logger): Promise<DeviceMap> {
  const bad = new CappedLineLog((text) => logger.warn(text))
  const duplicates = new CappedLineLog((text) => logger.warn(text))
  const logRest = (): void => {
    const rest = unloggedLine(path, [[bad, 'bad lines'], [duplicates, 'duplicate entries']])
    if (rest !== undefined) logger.warn({ mapFile: path, badLines: bad.count, duplicates: duplicates.count }, rest)
  }
  let map: DeviceMap
  try {
    map = await loadDeviceMap(path, { strict, onBadLine: (line) => bad.add(line), onDuplicate: (line) => duplicates.add(line) })
  } finally {
    logRest()
  }
  logger.info({ mapFile: path, entries: map.size, badLines: bad.count, duplicates: duplicates.count }, 'device map loaded')
  return map
}
