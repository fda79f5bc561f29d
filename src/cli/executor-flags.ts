/**
 * The executor checks of run-server and run-worker: the device map and the
 * checks file are read once in the command's own process before anything binds.
 */
import { ConfigError } from '../errors.js'
import { checkExecutorSpec, loadExecutor } from '../executors/load.js'
import { CHECKS_EXECUTOR, DEVICE_MAP_EXECUTOR } from '../executors/spec.js'
import type { ExecutorSpec } from '../executors/types.js'
import type { Logger } from '../log.js'
import { loadMapLogged } from './common.js'

/** The device map a spec reads: the device map's own file, or the map beside a checks file. */
function deviceMapOf(spec: ExecutorSpec | undefined): string | undefined {
  const options = spec?.options as { file?: unknown; map?: unknown } | undefined
  if (spec?.module === CHECKS_EXECUTOR) return typeof options?.map === 'string' ? options.map : undefined
  if (spec?.module !== DEVICE_MAP_EXECUTOR) return undefined
  if (typeof options?.file !== 'string') throw new ConfigError('ERR_EXECUTOR', `the ${DEVICE_MAP_EXECUTOR} executor needs --executor-options '{"file":"<map file>"}' (or use --map FILE)`)
  return options.file
}

/**
 * For the device map (alone, or beside a checks file), loads the file once in
 * the command's own process, so bad lines are reported once and a bad file
 * stops it before anything binds (workers load it again, silently). Other
 * executors are left to the workers.
 */
export async function checkDeviceMap(spec: ExecutorSpec | undefined, strict: boolean, logger: Logger): Promise<void> {
  const map = deviceMapOf(spec)
  if (map === undefined) {
    if (strict) logger.warn('--strict applies to the device map only; ignored')
    return
  }
  await loadMapLogged(map, strict, logger)
}

/**
 * For `--checks`, parses the checks file in the command's own process, so a
 * mistake stops it before anything binds with the parser's own message
 * (`checks.toml: check "web": timeout "3x" is not a duration (250ms, 3s, 1m)`),
 * exit 2. Nothing runs: exec programs are only looked at.
 */
export async function checkChecksFile(spec: ExecutorSpec | undefined): Promise<void> {
  if (spec?.module === CHECKS_EXECUTOR) await checkExecutorSpec(spec)
}

/**
 * For run-server, which forks workers that import `spec.module`: makes one
 * executor in this process and closes it, so a module that is missing, has no
 * default createExecutor, or whose createExecutor fails stops the command
 * (exit 2, one line) before it binds, rather than leaving a gateway whose
 * every forked worker dies at start. The device map is checked by
 * {@link checkDeviceMap} instead, and a checks file by {@link checkChecksFile}.
 */
export async function checkExecutorModule(spec: ExecutorSpec, logger: Logger): Promise<void> {
  if (spec.module === DEVICE_MAP_EXECUTOR || spec.module === CHECKS_EXECUTOR) return
  const executor = await loadExecutor(spec, { workerId: 'run-server-check', logger })
  await executor.close?.()
}
