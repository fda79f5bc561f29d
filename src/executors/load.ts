/**
 * Turns an {@link ExecutorSpec} into an {@link Executor}, in whichever process
 * runs commands (a forked worker, `run-worker`).
 * STUB (issue 10 groundwork): only the built-in device map; the module loader replaces it.
 */
import { loadDeviceMap } from '../data/device-map.js'
import { ConfigError } from '../errors.js'
import { deviceMapExecutor } from '../worker/executor.js'
import { DEVICE_MAP_EXECUTOR } from './spec.js'
import type { Executor, ExecutorContext, ExecutorSpec } from './types.js'

export async function loadExecutor(spec: ExecutorSpec, _context: ExecutorContext): Promise<Executor> {
  if (spec.module !== DEVICE_MAP_EXECUTOR) throw new ConfigError('ERR_EXECUTOR', `executor module ${JSON.stringify(spec.module)}: not supported yet`)
  const file = (spec.options as { file?: unknown } | undefined)?.file
  if (typeof file !== 'string') throw new ConfigError('ERR_EXECUTOR', 'the device-map executor needs options.file, a device map path')
  return deviceMapExecutor(await loadDeviceMap(file))
}
