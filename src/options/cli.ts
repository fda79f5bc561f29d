/**
 * A command line's options from every source, in order: flag (and the
 * seed's positional arguments), then environment, then config file, then
 * default. Library options without a source stay absent, so the library's
 * own resolution applies its defaults and cross-field checks once.
 */
import { ConfigError } from '../errors.js'
import { readConfigFile } from './config-file.js'
import { readEnv } from './env.js'
import { flaggedEntries, type FlagReader } from './flags.js'
import { describeValue } from './resolve.js'
import { envName, type CliValues, type Schema, type Source, type ValueOf } from './types.js'

/** Keys of command-line-only options that have a default: they always have a value. */
type CliDefaultKeys<S extends Schema> = { [K in keyof S]: S[K] extends { readonly cliOnly: true; readonly default: unknown } ? K : never }[keyof S]

/** What the command line resolved: every option a source gave, and the command line's own defaults. */
export type CliOptions<S extends Schema> = CliValues<S> & { -readonly [K in CliDefaultKeys<S>]: ValueOf<S[K]> }

export interface CliResolution<S extends Schema> {
  readonly values: CliOptions<S>
  /** Where each value came from, by schema key. */
  readonly sources: Partial<Record<keyof S, Source>>
  /** Things worth a warning once a logger exists (unknown CGW_ variables). */
  readonly warnings: readonly string[]
}

export interface CliSources<S extends Schema> {
  /** The program's name, for messages. */
  readonly command: string
  readonly flags: FlagReader<S>
  /** Values of the seed's positional arguments, by schema key; they count as flags. */
  readonly positional?: CliValues<S>
  readonly env?: NodeJS.ProcessEnv
  /** Environment variables of the other commands: not worth a warning here. */
  readonly knownElsewhere?: ReadonlySet<string>
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** Flags and positional arguments together; a setting given both ways with different values is a usage error. */
function commandLine<S extends Schema>(schema: S, flags: Record<string, unknown>, positional: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...flags }
  for (const [key, value] of Object.entries(positional)) {
    if (value === undefined) continue
    if (key in flags && !same(flags[key], value)) {
      const flag = schema[key]?.flag ?? key
      throw new ConfigError('ERR_INVALID_OPTION', `${flag} given twice: ${describeValue(value)} and --${flag} ${describeValue(flags[key])}`)
    }
    merged[key] = value
  }
  return merged
}

/**
 * Resolves a command's options from its flags, `env` (default `process.env`)
 * and the `--config` file (itself from the flag or `CGW_CONFIG`). Throws
 * {@link ConfigError} naming the flag, variable or file line of a bad value,
 * or a required option no source gave.
 */
export function resolveCli<S extends Schema>(schema: S, sources: CliSources<S>): CliResolution<S> {
  const layers: [Source, Record<string, unknown>][] = []
  layers.push(['flag', commandLine(schema, sources.flags.given(), sources.positional ?? {})])
  const env = readEnv(schema, sources.env ?? process.env, sources.knownElsewhere)
  layers.push(['env', env.values])
  const [flagConfig, envConfig] = [layers[0]![1].config, layers[1]![1].config]
  if (typeof flagConfig === 'string') layers.push(['config', readConfigFile(schema, flagConfig, sources.command)])
  else if (typeof envConfig === 'string') layers.push(['config', readConfigFile(schema, envConfig, sources.command, envName('config'))])
  const values: Record<string, unknown> = {}
  const origin: Record<string, Source> = {}
  for (const [key, spec] of Object.entries(schema)) {
    const layer = layers.find(([, given]) => given[key] !== undefined)
    if (layer !== undefined) {
      values[key] = layer[1][key]
      origin[key] = layer[0]
    } else if (spec.cliOnly === true && spec.default !== undefined) {
      values[key] = spec.default
      origin[key] = 'default'
    } else if (spec.required === true && spec.flag !== undefined) {
      throw new ConfigError('ERR_INVALID_OPTION', `--${spec.flag} is required (or ${envName(spec.flag)}, or ${spec.flag} = … in the --config file)`)
    }
  }
  return { values: values as CliOptions<S>, sources: origin as Partial<Record<keyof S, Source>>, warnings: env.warnings }
}

/** Every environment variable that one of `schemas` reads. */
export function envNamesOf(...schemas: Schema[]): ReadonlySet<string> {
  return new Set(schemas.flatMap((schema) => flaggedEntries(schema).map(([, spec]) => envName(spec.flag))))
}
