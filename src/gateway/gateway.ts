/**
 * The gateway: a PULL intake that validates and queues batches, a ROUTER
 * that hands them to workers with free capacity (forwarding the body frame
 * untouched) and tracks who holds what, and the pool of forked workers. It
 * never runs a command. This class only wires the pieces: the state machine
 * is {@link GatewayCore}, the sockets are {@link GatewaySockets} (each with
 * its own thin adapter), and this class runs the lifecycle around them.
 */
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { errorMessage } from '../errors.js'
import { warmUpCodec } from '../protocol/warm-up.js'
import type { AllowListReload } from '../security/allow-list.js'
import { warmUpTransport } from '../transport/warm-up.js'
import { RateLimitedLog, silentLogger, type Logger } from '../log.js'
import { monotonicClock } from '../util/clock.js'
import { HeldCalls } from '../util/held-calls.js'
import { background } from '../util/background.js'
import type { GatewayEvents, GatewayStats } from './events.js'
import { GatewayCore, type Rejection } from './gateway-core.js'
import { GatewaySockets } from './gateway-sockets.js'
import { resolveGatewayOptions, type GatewayOptions, type ResolvedGatewayOptions } from './options.js'
import type { GatewayStatus } from './status.js'
import type { WorkerPool } from './worker-pool.js'
import { forkedWorkers } from './forked-workers.js'
import type { WorkerPort } from './worker-port.js'
import { warmUpCore } from './warm-up.js'
import { checkExecutorSpec } from '../executors/load.js'
import { GatewayMetrics } from '../metrics/gateway-metrics.js'
import { dashboardRoutes } from '../dashboard/routes.js'
import { GatewayTicker } from './ticker.js'
export { gatewayDefaults, type GatewayOptions } from './options.js'
export type { GatewayEvents, GatewayStats, WorkerLossReason } from './events.js'
export type { AllowListReload } from '../security/allow-list.js'

/**
 * @example
 * const gateway = new Gateway({ bind: 'tcp://127.0.0.1:5557', mapFile: 'devices.txt' })
 * await gateway.start()
 * process.once('SIGINT', () => void gateway.close())
 */
export class Gateway extends EventEmitter<GatewayEvents> {
  readonly stats: GatewayStats
  private readonly options: ResolvedGatewayOptions
  private readonly logger: Logger
  private readonly lineLogs: RateLimitedLog[]
  private readonly core: GatewayCore
  private readonly sockets: GatewaySockets
  private readonly shortId = randomBytes(3).toString('hex')
  private readonly clock = monotonicClock
  private readonly startedAt = this.clock()
  private readonly ticker = new GatewayTicker(this.clock)
  private pool: WorkerPool | undefined
  private closing: Promise<void> | undefined
  private forced = false
  private boundEndpoint: string | undefined
  private boundWorkersEndpoint: string | undefined
  /** Events raised while `start()` runs, delivered once it has resolved (see {@link start}). */
  private readonly events = new HeldCalls()

  constructor(options: GatewayOptions = {}) {
    super()
    const o = resolveGatewayOptions(options)
    this.options = o
    this.logger = (o.logger ?? silentLogger()).child({ role: 'gateway' })
    const line = (): RateLimitedLog => new RateLimitedLog(this.logger)
    const logs = { logger: this.logger, malformed: line(), worker: line(), refused: line(), abort: line() }
    this.lineLogs = [logs.malformed, logs.worker, logs.refused, logs.abort]
    // Its histograms are the core's observer; without `http` nothing is timed.
    const metrics = o.http === undefined ? undefined : new GatewayMetrics(this)
    const effects = {
      ...(metrics === undefined ? {} : { observe: metrics.observer }),
      toWorker: (...[to, message]: Parameters<WorkerPort['send']>) => {
        this.sockets.workerPort.send(to, message).catch((error: unknown) => this.onUnreachable(to, error))
      },
      stopPeer: (identity: Buffer) => this.sockets.workerPort.stopPeer(identity),
      reject: (rejection: Rejection) => this.sockets.reject(rejection),
      emit: <K extends keyof GatewayEvents>(event: K, ...args: GatewayEvents[K]) => this.raise(event, ...args),
    }
    this.core = new GatewayCore(o, effects, logs, this.clock)
    this.stats = this.core.stats
    const httpRoutes = () => ({ ...metrics?.routes, ...dashboardRoutes(this) })
    this.sockets = new GatewaySockets(o, { shortId: this.shortId, stats: this.stats, refusedLog: logs.refused, logger: this.logger, httpRoutes })
  }

  /** The URL of `/metrics`, `/status.json` and the dashboard, as bound (the real port when asked for 0); `undefined` without `http` or before `start()`. */
  get httpUrl(): string | undefined {
    return this.boundEndpoint !== undefined ? this.sockets.httpUrl : undefined
  }

  /** The gateway's CURVE public key (Z85) once started with `curveSecret`; `undefined` without CURVE. */
  get curvePublicKey(): string | undefined {
    return this.boundEndpoint !== undefined ? this.sockets.curvePublicKey : undefined
  }

  /**
   * Reads the allow-list directories (`clientsAllow`, `workersAllow`,
   * `adminsAllow`) again, as run-server does on SIGHUP, and logs each new
   * count. New handshakes use the new lists; connections already made stay,
   * since CURVE checks a key once, when its connection is made (restart a
   * client or worker to cut it off). A directory that fails to read keeps its
   * old list and the error is logged. Without CURVE there is nothing to read.
   */
  reloadAllowLists(): Promise<AllowListReload[]> {
    return this.sockets.reloadAllowLists()
  }

  /** The intake endpoint as bound (the real port when bound to `:*`); throws before `start()`. */
  get endpoint(): string {
    if (this.boundEndpoint === undefined) throw new Error('gateway not started')
    return this.boundEndpoint
  }

  /**
   * The worker port endpoint as bound (the real port when bound to `:*`).
   * Before `start()` it is the configured one when that is already concrete
   * (the default ipc:// path, or a tcp:// port number); a `:*` one throws,
   * as {@link endpoint} does, since its port is not known yet.
   */
  get workersEndpoint(): string {
    if (this.boundWorkersEndpoint !== undefined) return this.boundWorkersEndpoint
    if (/^tcp:\/\/.*:(\*|0)$/.test(this.sockets.workersBind)) throw new Error('gateway not started')
    return this.sockets.workersBind
  }

  /** Batches waiting for a worker. */
  get queued(): number {
    return this.core.queued
  }

  /** Pids of the live forked workers. */
  get workerPids(): number[] {
    return this.pool?.pids ?? []
  }

  /** Workers connected and ready. */
  get connectedWorkers(): number {
    return this.core.connectedWorkers
  }

  /** What `gateway-status` shows: queue depth per client, workers, pool and counters. */
  status(): GatewayStatus {
    const endpoints = { endpoint: this.boundEndpoint ?? this.options.bind, workersEndpoint: this.boundWorkersEndpoint ?? this.sockets.workersBind }
    const security = this.sockets.securityStatus(this.boundEndpoint !== undefined)
    return { uptimeMs: Math.round(this.clock() - this.startedAt), ...endpoints, ...this.core.snapshot(), security, recent: this.ticker.recent() }
  }

  /**
   * Binds every socket, forks the first worker(s) and starts serving. When a
   * socket cannot bind, nothing has been forked and everything is closed.
   * Events raised meanwhile (`listening`, the first `worker:spawn`, even an
   * early `worker:ready`) are delivered after it resolves, so a listener
   * attached right after `await gateway.start()` still gets them.
   */
  async start(): Promise<void> {
    const release = this.events.hold()
    try {
      await this.bindAndServe()
    } finally {
      release()
    }
  }

  /**
   * Shuts down: stops intake, rejects queued batches `shutting-down`, sends
   * every worker the poison pill, waits up to `graceMs` for them to finish
   * and leave, SIGKILLs stragglers, and closes. Idempotent. With `force`,
   * workers are SIGKILLed at once (a second Ctrl+C).
   */
  close(options: { force?: boolean } = {}): Promise<void> {
    if (options.force === true && !this.forced) {
      this.forced = true
      this.pool?.killAll('SIGKILL')
    }
    this.closing ??= this.shutdown()
    return this.closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  private async bindAndServe(): Promise<void> {
    // A module file or map that is not there fails here, once, rather than in every re-fork.
    if (this.options.maxWorkers > 0 && this.options.executor !== undefined) await checkExecutorSpec(this.options.executor)
    const { endpoint, workersEndpoint } = await this.sockets.bind()
    this.boundWorkersEndpoint = workersEndpoint
    this.sockets.serveStatus(() => this.status())
    if (this.options.maxWorkers > 0) {
      const pool = forkedWorkers(this.options, workersEndpoint, `gw${this.shortId}`, this.logger)
      pool.on('spawn', (worker) => this.core.workerSpawned(worker))
      pool.on('exit', ({ id, pid, code, signal }) => this.core.workerExited({ id, pid, code, signal }))
      this.core.attachPool((this.pool = pool))
    }
    // Fork before warming up: a worker takes ~250 ms to boot, and the warm-up runs meanwhile.
    this.core.start()
    warmUpCodec(200)
    warmUpCore(this.options)
    await warmUpTransport()
    this.boundEndpoint = endpoint
    this.ticker.start(this.core, this.options.heartbeatIntervalMs)
    this.sockets.serve(this.core)
    const endpoints = { endpoint, workersEndpoint }
    this.logger.info({ ...endpoints, curve: this.sockets.curve, ...(this.sockets.httpUrl === undefined ? {} : { http: this.sockets.httpUrl }) }, 'gateway listening')
    this.raise('listening', endpoints)
  }

  private raise<K extends keyof GatewayEvents>(event: K, ...args: GatewayEvents[K]): void {
    // A throwing listener must neither break the state change that raised the event nor crash the
    // process. The cast: `raise` is typed as `emit` is, which TypeScript cannot resolve for a generic K.
    this.events.run(() => {
      try {
        this.emit(event, ...(args as never))
      } catch (error) {
        this.logger.error({ event, err: errorMessage(error) }, 'a gateway event listener threw')
      }
    })
  }

  /** Runs on a failed send's turn, where anything thrown would be an unhandled rejection. */
  private onUnreachable(worker: Parameters<WorkerPort['send']>[0], error: unknown): void {
    background(Promise.resolve().then(() => this.core.workerUnreachable(worker, errorMessage(error))), this.logger, 'losing an unreachable worker')
  }

  private async shutdown(): Promise<void> {
    this.core.beginClose()
    await this.waitForWorkers(this.forced ? 0 : this.options.graceMs)
    const pool = this.pool
    if (pool !== undefined && pool.size > 0) {
      this.logger.warn({ pids: pool.pids }, 'workers did not leave within the grace time; killing them')
      pool.killAll('SIGKILL')
      await Promise.race([pool.allExited(), delay(5000)])
    }
    this.core.finishClose()
    this.ticker.stop()
    // Rejections get a second to leave, unless a second signal asked for an exit now.
    await this.sockets.close(this.forced ? 0 : 1000)
    for (const log of this.lineLogs) log.flush()
    this.logger.info({ stats: this.stats }, 'gateway closed')
    this.raise('closed')
  }

  /** Resolves when every forked worker has exited and every remote worker said bye, or after `ms`. */
  private async waitForWorkers(ms: number): Promise<void> {
    const deadline = this.clock() + ms
    while (this.clock() < deadline && !this.core.drained) await delay(20)
  }
}
