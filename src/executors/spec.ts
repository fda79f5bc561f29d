/** Built-in executor names and the shorthands that expand to them. */
import type { ExecutorSpec } from './types.js'

/** The simulated device map, built in. Its options: `{ file }`, a device map path. */
export const DEVICE_MAP_EXECUTOR = 'device-map'

/** What `mapFile` / `--map FILE` stands for. */
export function deviceMapSpec(file: string): ExecutorSpec {
  return { module: DEVICE_MAP_EXECUTOR, options: { file } }
}
