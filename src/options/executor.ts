/**
 * The executor flags of run-server and run-worker: `--map FILE` (or the
 * positional map file) is shorthand for `--executor device-map
 * --executor-options '{"file":FILE}'`; `--executor MODULE` names any module.
 */
import { ConfigError } from '../errors.js'
import { DEVICE_MAP_EXECUTOR, deviceMapSpec } from '../executors/spec.js'
import type { ExecutorSpec } from '../executors/types.js'
import type { Source } from './types.js'

export interface ExecutorFlags {
  readonly mapFile?: string | undefined
  readonly executorModule?: string | undefined
  readonly executorOptions?: unknown
}

const RANK: Record<Source, number> = { flag: 0, env: 1, config: 2, default: 3 }

/**
 * The executor the flags name, or `undefined` when none is given. `--map` and
 * `--executor` exclude each other: from one source that is a usage error; from
 * two (a flag over a config file's executor) the higher-precedence one wins.
 */
export function executorFromFlags(flags: ExecutorFlags, sources: Partial<Record<keyof ExecutorFlags, Source>>): ExecutorSpec | undefined {
  let { mapFile, executorModule, executorOptions } = flags
  if (mapFile !== undefined && executorModule !== undefined) {
    const map = RANK[sources.mapFile ?? 'default']
    const module = RANK[sources.executorModule ?? 'default']
    if (map === module) throw new ConfigError('ERR_INVALID_OPTION', `give --map or --executor, not both: --map ${mapFile} is shorthand for --executor ${DEVICE_MAP_EXECUTOR}`)
    if (map < module) {
      executorModule = undefined
      // The overridden executor's options go with it; options given beside --map itself are still an error below.
      if (RANK[sources.executorOptions ?? 'default'] > map) executorOptions = undefined
    } else mapFile = undefined
  }
  if (executorModule !== undefined) {
    return executorOptions === undefined ? { module: executorModule } : { module: executorModule, options: executorOptions }
  }
  if (executorOptions !== undefined) throw new ConfigError('ERR_INVALID_OPTION', '--executor-options needs --executor MODULE')
  return mapFile === undefined ? undefined : deviceMapSpec(mapFile)
}

