/** Built-in executor names and the shorthands that expand to them. */
import type { ExecutorSpec } from './types.js'

/** The simulated device map, built in. Its options: `{ file }`, a device map path. */
export const DEVICE_MAP_EXECUTOR = 'device-map'

/** Real checks from a checks file (see docs/CHECKS.md), built in. Its options: `{ file, map? }`. */
export const CHECKS_EXECUTOR = 'checks'

/** Options of the {@link CHECKS_EXECUTOR} executor. */
export interface ChecksExecutorOptions {
  /** The checks file (TOML). */
  readonly file: string
  /** A device map whose exact address/command pairs answer before any check. */
  readonly map?: string
}

/** What `mapFile` / `--map FILE` stands for. */
export function deviceMapSpec(file: string): ExecutorSpec {
  return { module: DEVICE_MAP_EXECUTOR, options: { file } }
}

/** What `checksFile` / `--checks FILE` stands for, with `--map FILE` beside it when given. */
export function checksSpec(file: string, map?: string): ExecutorSpec {
  const options: ChecksExecutorOptions = map === undefined ? { file } : { file, map }
  return { module: CHECKS_EXECUTOR, options }
}
