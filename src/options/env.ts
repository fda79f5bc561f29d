/**
 * Options from the environment: `CGW_` and the long flag in upper snake case
 * (`--batch-size` is `CGW_BATCH_SIZE`), read and checked like the flag.
 */
import { ConfigError } from '../errors.js'
import { INVALID } from './kinds.js'
import { flaggedEntries } from './flags.js'
import { invalidMessage } from './resolve.js'
import { envName, type CliValues, type Schema } from './types.js'

/** CGW_ variables that are not options: the gateway's message to its forked workers, and tooling. */
export const NOT_OPTIONS: ReadonlySet<string> = new Set(['CGW_WORKER_CONFIG', 'CGW_WORKER_NODE_FLAGS', 'CGW_CRASH_DIR'])

export interface EnvReading<S extends Schema> {
  readonly values: CliValues<S>
  /** One line per CGW_ variable that no command knows (a typo, most likely); it is ignored. */
  readonly warnings: readonly string[]
}

/**
 * Reads the role's options from `env`. An empty variable counts as unset. A
 * bad value throws {@link ConfigError} naming the variable. A `CGW_` name that
 * is neither this role's option nor in `knownElsewhere` (another command's
 * options, shared by one environment) gives a warning, not an error.
 */
export function readEnv<S extends Schema>(schema: S, env: NodeJS.ProcessEnv, knownElsewhere: ReadonlySet<string> = new Set()): EnvReading<S> {
  const values: Record<string, unknown> = {}
  const mine = new Set<string>()
  for (const [key, spec] of flaggedEntries(schema)) {
    const name = envName(spec.flag)
    mine.add(name)
    const text = env[name]
    if (text === undefined || text === '') continue
    const value = spec.kind.fromText(text)
    if (value === INVALID) throw new ConfigError('ERR_INVALID_OPTION', invalidMessage(name, spec.kind, JSON.stringify(text)))
    values[key] = value
  }
  const warnings = Object.keys(env)
    .filter((name) => name.startsWith('CGW_') && !mine.has(name) && !knownElsewhere.has(name) && !NOT_OPTIONS.has(name))
    .sort()
    .map((name) => `${name} is not an option of any command; ignored`)
  return { values: values as CliValues<S>, warnings }
}
