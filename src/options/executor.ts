/**
 * The executor flags of run-server and run-worker: `--map FILE` (or the
 * positional map file) is shorthand for `--executor device-map
 * --executor-options '{"file":FILE}'`; `--checks FILE` for the built-in
 * checks executor, with the map beside it when `--map` is given too (its
 * exact pairs answer first); `--executor MODULE` names any module.
 */
import { ConfigError } from '../errors.js'
import { DEVICE_MAP_EXECUTOR, checksSpec, deviceMapSpec } from '../executors/spec.js'
import type { ExecutorSpec } from '../executors/types.js'
import type { Source } from './types.js'

export interface ExecutorFlags {
  readonly mapFile?: string | undefined
  readonly checksFile?: string | undefined
  readonly executorModule?: string | undefined
  readonly executorOptions?: unknown
}

const RANK: Record<Source, number> = { flag: 0, env: 1, config: 2, default: 3 }

/**
 * The executor the flags name, or `undefined` when none is given. `--map`
 * and `--checks` (which combine) exclude `--executor`: from one source that
 * is a usage error; from two (a flag over a config file's executor) the
 * higher-precedence one wins.
 */
export function executorFromFlags(flags: ExecutorFlags, sources: Partial<Record<keyof ExecutorFlags, Source>>): ExecutorSpec | undefined {
  let { mapFile, checksFile, executorModule, executorOptions } = flags
  const shorthand = mapFile !== undefined || checksFile !== undefined
  if (shorthand && executorModule !== undefined) {
    const rankOf = (key: keyof ExecutorFlags, given: unknown): number => (given === undefined ? Number.POSITIVE_INFINITY : RANK[sources[key] ?? 'default'])
    const map = rankOf('mapFile', mapFile)
    const checks = rankOf('checksFile', checksFile)
    const files = Math.min(map, checks)
    const module = RANK[sources.executorModule ?? 'default']
    if (files === module) {
      throw new ConfigError(
        'ERR_INVALID_OPTION',
        checks === module
          ? `give --checks or --executor, not both: --checks ${checksFile} is shorthand for --executor checks (with --map beside it if you want map pairs first)`
          : `give --map or --executor, not both: --map ${mapFile} is shorthand for --executor ${DEVICE_MAP_EXECUTOR}`,
      )
    }
    if (files < module) {
      executorModule = undefined
      // The overridden executor's options go with it; options given beside --map itself are still an error below.
      if (RANK[sources.executorOptions ?? 'default'] > files) executorOptions = undefined
    } else {
      mapFile = undefined
      checksFile = undefined
    }
  }
  if (executorModule !== undefined) {
    return executorOptions === undefined ? { module: executorModule } : { module: executorModule, options: executorOptions }
  }
  if (executorOptions !== undefined) throw new ConfigError('ERR_INVALID_OPTION', '--executor-options needs --executor MODULE')
  if (checksFile !== undefined) return checksSpec(checksFile, mapFile)
  return mapFile === undefined ? undefined : deviceMapSpec(mapFile)
}
