/**
 * Options from a TOML file (`--config FILE`) whose keys are the long flags:
 *
 *     batch-size = 64
 *     server = ["tcp://gw1:5557", "tcp://gw2:5557"]
 *
 * Every problem is a {@link ConfigError} `ERR_CONFIG_FILE` naming the file,
 * the line where it can be found, the key and the value.
 */
import { readFileSync } from 'node:fs'
import { parse, TomlError } from 'smol-toml'
import { ConfigError, errorMessage } from '../errors.js'
import { INVALID } from './kinds.js'
import { flaggedEntries } from './flags.js'
import { describeValue, invalidMessage } from './resolve.js'
import { envName, type CliValues, type Schema } from './types.js'

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** A key as someone might misspell a long flag: `maxWorkers`, `max_workers`, `CGW_MAX_WORKERS` all read `maxworkers`. */
function loose(name: string): string {
  return name.toLowerCase().replace(/^cgw_/, '').replace(/[-_]/g, '')
}

/**
 * The 1-based line where a top-level `key` is set (`key = …`, `"key" = …`,
 * `[key]`); smol-toml reports positions only for syntax errors.
 */
export function lineOfKey(source: string, key: string): number | undefined {
  const name = `(?:${escapeRegExp(key)}|"${escapeRegExp(key)}"|'${escapeRegExp(key)}')`
  const pattern = new RegExp(`^\\s*(?:${name}\\s*[=.]|\\[\\s*${name}\\s*[\\].])`)
  const index = source.split(/\r?\n/).findIndex((line) => pattern.test(line))
  return index === -1 ? undefined : index + 1
}

/** Reads and parses the file; throws naming the file (and the line of a syntax error). */
function parseFile(path: string, namedBy: string | undefined): { source: string; table: Record<string, unknown> } {
  let source: string
  try {
    source = readFileSync(path, 'utf8')
  } catch (error) {
    // A file named by an exported variable is easy to forget: say where its name came from.
    const origin = namedBy === undefined ? '' : ` (named by ${namedBy})`
    throw new ConfigError('ERR_CONFIG_FILE', `cannot read config file ${path}${origin}: ${errorMessage(error)}`, { cause: error })
  }
  try {
    return { source, table: parse(source) }
  } catch (error) {
    if (!(error instanceof TomlError)) throw error
    // smol-toml's message goes on with a code excerpt; the first line says it all.
    const reason = error.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '')
    throw new ConfigError('ERR_CONFIG_FILE', `${path}:${error.line}:${error.column}: not valid TOML: ${reason}`, { cause: error })
  }
}

/**
 * The role's options set in the TOML file at `path`. `command` names the
 * program in the message about an unknown key; `namedBy` (`CGW_CONFIG`), what
 * gave the path, when that was not the `--config` flag.
 */
export function readConfigFile<S extends Schema>(schema: S, path: string, command: string, namedBy?: string): CliValues<S> {
  const { source, table } = parseFile(path, namedBy)
  const byFlag = new Map(flaggedEntries(schema).filter(([, spec]) => spec.inConfigFile !== false).map(([key, spec]) => [spec.flag, { key, spec }]))
  const values: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(table)) {
    const line = lineOfKey(source, name)
    const where = line === undefined ? `${path}:` : `${path}:${line}:`
    const entry = byFlag.get(name)
    if (entry === undefined) {
      const meant = flaggedEntries(schema).find(([key, spec]) => [key, spec.flag].some((spelling) => loose(spelling) === loose(name)))?.[1]
      const unknown = `${where} unknown key ${JSON.stringify(name)} = ${describeValue(value)}`
      if (meant?.inConfigFile === false) throw new ConfigError('ERR_CONFIG_FILE', `${unknown}: a config file cannot set ${meant.flag} (give --${meant.flag} or ${envName(meant.flag)})`)
      const hint = meant !== undefined ? ` (did you mean ${meant.flag}?)` : ''
      throw new ConfigError('ERR_CONFIG_FILE', `${unknown}${hint}: the keys are ${command}'s long flags (${command} --help)`)
    }
    const read = entry.spec.kind.fromValue(value)
    if (read === INVALID) throw new ConfigError('ERR_CONFIG_FILE', `${where} ${invalidMessage(name, entry.spec.kind, describeValue(value))}`)
    values[entry.key] = read
  }
  return values as CliValues<S>
}
