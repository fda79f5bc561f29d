/**
 * The built-in `checks` executor module (`--checks FILE`, options
 * `{ file, map? }`): reads the checks file and, when given, the device map
 * whose exact pairs answer first, then composes the executor (compose.ts).
 * Every forked worker loads it; the gateway and run-worker check the same
 * files before that, with checkExecutorSpec.
 */
import { loadDeviceMap } from '../../data/device-map.js'
import { ConfigError } from '../../errors.js'
import { deviceMapExecutor } from '../device-map.js'
import type { ChecksExecutorOptions } from '../spec.js'
import type { Executor, ExecutorContext } from '../types.js'
import { createChecksExecutor, type CheckKinds, type MapLookup } from './compose.js'
import { readChecksFile } from './file.js'
import { runExec } from './exec.js'
import { createHttpRunner } from './http.js'
import { runTcp } from './tcp.js'

export default async function createExecutor(options: ChecksExecutorOptions, context: ExecutorContext): Promise<Executor> {
  const { file, map } = (options ?? {}) as Partial<ChecksExecutorOptions>
  if (typeof file !== 'string' || file.length === 0) throw new ConfigError('ERR_EXECUTOR', 'the checks executor needs options.file, the path of a checks file')
  if (map !== undefined && typeof map !== 'string') throw new ConfigError('ERR_EXECUTOR', 'the checks executor: options.map must be the path of a device map')
  const config = await readChecksFile(file)
  let lookup: MapLookup | undefined
  if (map !== undefined) {
    // Bad lines were logged once by whoever named the map (run-server, run-worker); skipped quietly here.
    const deviceMap = await loadDeviceMap(map)
    const answer = deviceMapExecutor(deviceMap)
    lookup = (address, command, signal) => (deviceMap.get(address, command) === undefined ? undefined : answer(address, command, signal))
  }
  context.logger.debug({ checksFile: file, checks: config.checks.size, targets: config.targets.length, mapFile: map }, 'checks file loaded')
  // One connection pool per executor: closing the executor closes every connection it kept alive.
  const http = createHttpRunner()
  const kinds: CheckKinds = { exec: runExec, tcp: runTcp, http: http.run }
  const executor = createChecksExecutor(config, {
    kinds,
    ...(lookup === undefined ? {} : { map: lookup }),
    ...(context.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: context.commandTimeoutMs }),
    logger: context.logger,
  })
  const closeChecks = executor.close
  executor.close = async () => {
    try {
      await closeChecks?.()
    } finally {
      http.close()
    }
  }
  return executor
}
