/**
 * The gateway: a PULL intake that validates and queues batches, a ROUTER
 * that hands them to workers with free capacity (forwarding the body frame
 * untouched) and tracks who holds what, and the pool of forked workers. It
 * never runs a command. This class only wires the pieces: the state machine
 * is {@link GatewayCore}, and each socket has its own thin adapter.
 */
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { errorMessage } from '../errors.js'
import { warmUpCodec } from '../protocol/warm-up.js'
import { assertBindable, removeStaleIpcFiles } from '../transport/endpoint.js'
import type { AllowListReload } from '../security/allow-list.js'
import { warmUpTransport } from '../transport/warm-up.js'
import { RateLimitedLog, silentLogger, type Logger } from '../log.js'
import { monotonicClock } from '../util/clock.js'
import { background } from '../util/background.js'
import { HeldCalls } from '../util/held-calls.js'
import type { GatewayEvents, GatewayStats } from './events.js'
import { GatewayCore, type Rejection } from './gateway-core.js'
import { Intake } from './intake.js'
import { Rejections } from './rejections.js'
import { resolveGatewayOptions, type GatewayOptions, type ResolvedGatewayOptions } from './options.js'
import { StatusPort } from './status-port.js'
import type { GatewayStatus } from './status.js'
import type { WorkerPool } from './worker-pool.js'
import { forkedWorkers } from './forked-workers.js'
import { WorkerPort } from './worker-port.js'
import { warmUpCore } from './warm-up.js'
import { checkExecutorSpec } from '../executors/load.js'
import { CurveGuard } from './curve-guard.js'
import { PrivateIpcDir, removeStaleIpcDirs } from './private-ipc.js'
import { HttpEndpoint } from '../http/http-endpoint.js'
import { GatewayMetrics } from '../metrics/gateway-metrics.js'
import { dashboardRoutes } from '../dashboard/routes.js'
import { RateHistory } from './rate-history.js'
export { gatewayDefaults, type GatewayOptions } from './options.js'
export type { GatewayEvents, GatewayStats, WorkerLossReason } from './events.js'
export type { AllowListReload } from '../security/allow-list.js'

/** How the worker ports' ipc directories (and, before them, files) begin: `cgw-` and the gateway's 6-hex short id. */
const WORKER_PORT_PREFIX = /cgw-[0-9a-f]{6}/

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
  /** Made at start, once the CURVE certificate (if any) is read: its sockets present the gateway's key. */
  private rejections: Rejections | undefined
  private readonly guard: CurveGuard | undefined
  /** The owner-only directory of the default worker port; none when `workersBind` is given. */
  private readonly ipcDir: PrivateIpcDir | undefined
  private readonly intake: Intake
  private readonly workerPort: WorkerPort
  private readonly statusPort: StatusPort | undefined
  /** `/metrics`, `/status.json` and the dashboard, with `http`. */
  private readonly http: HttpEndpoint | undefined
  private readonly shortId = randomBytes(3).toString('hex')
  private readonly workersBind: string
  private readonly clock = monotonicClock
  private readonly startedAt = this.clock()
  /** The last minute's throughput, read on each tick (status `recent`). */
  private readonly rates = new RateHistory({ clock: this.clock })
  private pool: WorkerPool | undefined
  private ticker: NodeJS.Timeout | undefined
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
    this.ipcDir = o.workersBind === undefined ? new PrivateIpcDir(`cgw-${this.shortId}`) : undefined
    this.workersBind = o.workersBind ?? this.ipcDir!.endpoint
    assertBindable(this.workersBind, 'worker port endpoint')
    if (o.statusBind !== undefined) assertBindable(o.statusBind, 'status endpoint')
    this.logger = (o.logger ?? silentLogger()).child({ role: 'gateway' })
    const line = (): RateLimitedLog => new RateLimitedLog(this.logger)
    const logs = { logger: this.logger, malformed: line(), worker: line(), refused: line(), abort: line() }
    this.lineLogs = [logs.malformed, logs.worker, logs.refused, logs.abort]
    // Its histograms are the core's observer; without `http` nothing is timed.
    const metrics = o.http === undefined ? undefined : new GatewayMetrics(this)
    const effects = {
      ...(metrics === undefined ? {} : { observe: metrics.observer }),
      toWorker: (...[to, message]: Parameters<WorkerPort['send']>) => {
        this.workerPort.send(to, message).catch((error: unknown) => this.onUnreachable(to, error))
      },
      stopPeer: (identity: Buffer) => this.workerPort.stopPeer(identity),
      reject: (rejection: Rejection) => this.rejections?.send(rejection),
      emit: <K extends keyof GatewayEvents>(event: K, ...args: GatewayEvents[K]) => this.raise(event, ...args),
    }
    this.core = new GatewayCore(o, effects, logs, this.clock)
    this.stats = this.core.stats
    if (o.curveSecret !== undefined) {
      const lists = { curveSecret: o.curveSecret, clientsAllow: o.clientsAllow, workersAllow: o.workersAllow, adminsAllow: o.adminsAllow }
      this.guard = new CurveGuard(lists, this.stats.refused, logs.refused, this.logger)
    }
    const guard = this.guard
    this.intake = new Intake(o.bind, { maxMessageBytes: o.maxMessageBytes, highWaterMark: o.intakeHighWaterMark, context: guard?.context('intake') })
    this.workerPort = new WorkerPort(this.workersBind, o.maxMessageBytes, guard?.context('workers'))
    if (o.statusBind !== undefined) this.statusPort = new StatusPort(o.statusBind, guard?.context('status'))
    if (o.http !== undefined) this.http = new HttpEndpoint(o.http, { ...metrics?.routes, ...dashboardRoutes(this) }, this.logger)
  }

  /** The URL of `/metrics`, `/status.json` and the dashboard, as bound (the real port when asked for 0); `undefined` without `http` or before `start()`. */
  get httpUrl(): string | undefined {
    return this.http !== undefined && this.boundEndpoint !== undefined ? this.http.url : undefined
  }

  /** The gateway's CURVE public key (Z85) once started with `curveSecret`; `undefined` without CURVE. */
  get curvePublicKey(): string | undefined {
    return this.guard !== undefined && this.boundEndpoint !== undefined ? this.guard.curve.publicKey : undefined
  }

  /**
   * Reads the allow-list directories (`clientsAllow`, `workersAllow`,
   * `adminsAllow`) again, as run-server does on SIGHUP, and logs each new
   * count. New handshakes use the new lists; connections already made stay,
   * since CURVE checks a key once, when its connection is made (restart a
   * client or worker to cut it off). A directory that fails to read keeps its
   * old list and the error is logged. Without CURVE there is nothing to read.
   */
  async reloadAllowLists(): Promise<AllowListReload[]> {
    if (this.guard === undefined) {
      this.logger.info('no allow-lists to re-read: CURVE is off')
      return []
    }
    return this.guard.reload()
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
    if (/^tcp:\/\/.*:(\*|0)$/.test(this.workersBind)) throw new Error('gateway not started')
    return this.workersBind
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
    const endpoints = { endpoint: this.boundEndpoint ?? this.options.bind, workersEndpoint: this.boundWorkersEndpoint ?? this.workersBind }
    return { uptimeMs: Math.round(this.clock() - this.startedAt), ...endpoints, ...this.core.snapshot(), security: this.securityStatus(), recent: this.rates.snapshot() }
  }

  private securityStatus(): NonNullable<GatewayStatus['security']> {
    const replyAllow = this.options.replyAllow === undefined ? {} : { replyAllow: [...this.options.replyAllow] }
    const publicKey = this.curvePublicKey
    if (this.guard === undefined || publicKey === undefined) return { curve: this.guard !== undefined, ...replyAllow }
    return { curve: true, publicKey, allowed: this.guard.sizes(), ...replyAllow }
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
    // Gateways killed by SIGKILL leave their worker port's file behind; sweep those up.
    const stale = (await removeStaleIpcFiles(WORKER_PORT_PREFIX)) + (await removeStaleIpcDirs(WORKER_PORT_PREFIX))
    if (stale > 0) this.logger.debug({ removed: stale }, 'socket files of gateways that are gone removed')
    let workersEndpoint: string
    try {
      await this.secure()
      await this.ipcDir?.create()
      workersEndpoint = await this.workerPort.bind()
    } catch (error) {
      // Not removeFiles(): an ipc:// path that failed to bind may be another process's.
      this.closeSockets()
      await this.ipcDir?.remove()
      throw error
    }
    this.openRejections()
    let endpoint: string
    try {
      endpoint = await this.intake.bind()
      await this.statusPort?.bind()
      await this.http?.start()
    } catch (error) {
      this.closeSockets()
      await this.removeFiles()
      throw error
    }
    this.boundWorkersEndpoint = workersEndpoint
    this.statusPort?.serve(() => this.status(), this.logger)
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
    const interval = this.options.heartbeatIntervalMs
    this.rates.sample(this.stats)
    this.ticker = setInterval(() => {
      this.core.tick()
      this.rates.sample(this.stats)
    }, Math.max(10, Math.floor(interval / 2)))
    this.intake.serve(this.core, this.logger)
    this.workerPort.serve(this.core, this.logger)
    const endpoints = { endpoint, workersEndpoint }
    this.logger.info({ ...endpoints, curve: this.guard !== undefined, ...(this.http === undefined ? {} : { http: this.http.url }) }, 'gateway listening')
    this.raise('listening', endpoints)
  }

  /**
   * With CURVE: reads the certificate and allow-lists, binds each port's ZAP
   * handler, and makes each port a CURVE server, all before anything binds.
   */
  private async secure(): Promise<void> {
    const guard = this.guard
    if (guard === undefined) return
    await guard.start()
    this.intake.secure((socket) => guard.secure('intake', socket))
    this.workerPort.secure((socket) => guard.secure('workers', socket))
    this.statusPort?.secure((socket) => guard.secure('status', socket))
    this.logger.info({ publicKey: guard.curve.publicKey, allowed: guard.sizes() }, 'CURVE on: intake, worker port and status port take only allow-listed keys')
    if (this.options.replyAllow === undefined) {
      this.logger.warn('CURVE is on but no --reply-allow is set: workers and the gateway will connect to any replyTo an allowed client names')
    }
  }

  private openRejections(): void {
    const o = this.options
    const curve = this.guard === undefined ? {} : { curve: this.guard.curve }
    // Rejections are small, but a flood of them for vanished clients must stay bounded too.
    // At shutdown every queued batch of a client is rejected at once, so leave room for a full queue.
    this.rejections = new Rejections({ maxBacklog: o.queueLimit + 10_000, ...curve, ...o.reply }, this.stats, this.logger)
  }

  private raise<K extends keyof GatewayEvents>(event: K, ...args: GatewayEvents[K]): void {
    // EventEmitter types its arguments as a conditional on K that TypeScript cannot resolve for a
    // generic K; `raise` is typed exactly like `emit`, so the cast loses nothing.
    this.events.run(() => void this.emit(event, ...(args as never)))
  }

  /** Runs on a failed send's turn: a throwing worker:lost listener must not become an unhandled rejection. */
  private onUnreachable(worker: Parameters<WorkerPort['send']>[0], error: unknown): void {
    try {
      this.core.workerUnreachable(worker, errorMessage(error))
    } catch (thrown) {
      this.logger.error({ err: errorMessage(thrown) }, 'a gateway event listener threw')
    }
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
    clearInterval(this.ticker)
    this.closeSockets()
    await this.removeFiles()
    // Rejections get a second to leave, unless a second signal asked for an exit now.
    await this.rejections?.close(this.forced ? 0 : 1000)
    for (const log of this.lineLogs) log.flush()
    this.logger.info({ stats: this.stats }, 'gateway closed')
    this.raise('closed')
  }

  private closeSockets(): void {
    if (this.http !== undefined) background(this.http.close(), this.logger, 'closing the HTTP listener')
    this.statusPort?.close()
    this.intake.close()
    this.workerPort.close()
    // After the sockets: a CURVE socket must never be open without its ZAP handler.
    this.guard?.close()
  }

  private async removeFiles(): Promise<void> {
    await Promise.all([this.workerPort.removeFile(), this.statusPort?.removeFile()])
    await this.ipcDir?.remove()
  }

  /** Resolves when every forked worker has exited and every remote worker said bye, or after `ms`. */
  private async waitForWorkers(ms: number): Promise<void> {
    const deadline = this.clock() + ms
    while (this.clock() < deadline && !this.core.drained) await delay(20)
  }
}
