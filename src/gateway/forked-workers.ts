/**
 * The forked-worker pool of a gateway, configured from its options: every
 * worker connects to the worker port as bound, through the loopback address
 * when the port listens on every interface. With CURVE, each gets the path of
 * the gateway's certificate (made absolute), never the key itself: the
 * config travels in the worker's environment.
 */
import { resolve } from 'node:path'
import type { Logger } from '../log.js'
import { forkedWorkerOptions } from '../options/forked.js'
import { isWildcardHost } from '../transport/endpoint.js'
import type { ResolvedGatewayOptions } from './options.js'
import { WorkerPool } from './worker-pool.js'

export function forkedWorkers(o: ResolvedGatewayOptions, workersEndpoint: string, idPrefix: string, logger: Logger): WorkerPool {
  const gateway = isWildcardHost(workersEndpoint) ? workersEndpoint.replace(/^tcp:\/\/.*:([0-9]+)$/, 'tcp://127.0.0.1:$1') : workersEndpoint
  return new WorkerPool(
    { ...forkedWorkerOptions(o), ...(o.curveSecret === undefined ? {} : { curveSecret: resolve(o.curveSecret) }), gateway, logLevel: o.workerLogLevel ?? logger.level, gatewayPid: process.pid },
    idPrefix,
    logger,
  )
}
