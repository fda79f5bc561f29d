/**
 * The device-map check of run-server and run-worker: the map is read once in
 * the command's own process before anything binds.
 */
import { ConfigError } from '../errors.js'
import { loadExecutor } from '../executors/load.js'
import { DEVICE_MAP_EXECUTOR } from '../executors/spec.js'
import type { ExecutorSpec } from '../executors/types.js'
import type { Logger } from '../log.js'
import { loadMapLogged } from './common.js'

/**
 * For the device map, loads the file once in the command's own process, so
 * bad lines are reported once and a bad file stops it before anything binds
 * (workers load it again, silently). Other executors are left to the workers.
 */
export async function checkDeviceMap(spec: ExecutorSpec | undefined, strict: boolean, logger: Logger): Promise<void> {
  if (spec?.module !== DEVICE_MAP_EXECUTOR) {
    if (strict) logger.warn('--strict applies to the device map only; ignored')
    return
  }
  const file = (spec.options as { file?: unknown } | undefined)?.file
  if (typeof file !== 'string') throw new ConfigError('ERR_EXECUTOR', `the ${DEVICE_MAP_EXECUTOR} executor needs --executor-options '{"file":"<map file>"}' (or use --map FILE)`)
  await loadMapLogged(file, strict, logger)
}

/**
 * For run-server, which forks workers that import `spec.module`: makes one
 * executor in this process and closes it, so a module that is missing, has no
 * default createExecutor, or whose createExecutor fails stops the command
 * (exit 2, one line) before it binds, rather than leaving a gateway whose
 * every forked worker dies at start. The device map is checked by
 * {@link checkDeviceMap} instead.
 */
export async function checkExecutorModule(spec: ExecutorSpec, logger: Logger): Promise<void> {
  if (spec.module === DEVICE_MAP_EXECUTOR) return
  const executor = await loadExecutor(spec, { workerId: 'run-server-check', logger })
  await executor.close?.()
}
