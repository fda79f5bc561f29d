/**
 * The gateway's sockets and what they stand on: the intake, the worker port,
 * the status port, the HTTP listener and the `rejected` sockets, CURVE on
 * the bound ones, and the worker port's owner-only ipc directory. It binds
 * them in an order that never opens a CURVE socket before its ZAP handler,
 * closes what it opened when a bind fails, and closes them all at shutdown.
 * When to serve them, and everything about workers and batches, is the
 * gateway's.
 */
import type { Logger } from '../log.js'
import type { HttpRoutes } from '../http/http-endpoint.js'
import { HttpEndpoint } from '../http/http-endpoint.js'
import type { AllowListReload } from '../security/allow-list.js'
import { assertBindable, removeStaleIpcFiles } from '../transport/endpoint.js'
import { background } from '../util/background.js'
import { CurveGuard } from './curve-guard.js'
import type { GatewayStats } from './events.js'
import { Intake, type IntakeSink } from './intake.js'
import type { ResolvedGatewayOptions } from './options.js'
import type { LineLog, Rejection } from './ports.js'
import { PrivateIpcDir, removeStaleIpcDirs } from './private-ipc.js'
import { Rejections } from './rejections.js'
import { StatusPort } from './status-port.js'
import type { GatewayStatus } from './status.js'
import { WorkerPort, type WorkerPortSink } from './worker-port.js'

/** How the worker ports' ipc directories (and, before them, files) begin: `cgw-` and the gateway's 6-hex short id. */
const WORKER_PORT_PREFIX = /cgw-[0-9a-f]{6}/

/** What the sockets need from the gateway that makes them. */
export interface GatewaySocketsDeps {
  /** The gateway's 6-hex short id, which names the default worker port's directory. */
  readonly shortId: string
  /** Counts `refused` (CURVE) and `undelivered` (rejections). */
  readonly stats: GatewayStats
  /** The rate-limited log of refused connections. */
  readonly refusedLog: LineLog
  readonly logger: Logger
  /** What the HTTP listener serves; called once, and only with `http`. */
  readonly httpRoutes: () => HttpRoutes
}

/** The intake and worker port endpoints as bound (the real ports where `:*` was asked for). */
export interface BoundEndpoints {
  readonly endpoint: string
  readonly workersEndpoint: string
}

export class GatewaySockets {
  /** The worker port endpoint as configured: `workersBind`, or the default ipc:// one in the private directory. */
  readonly workersBind: string
  /** Read by the core's effects, which send to workers through it. */
  readonly workerPort: WorkerPort
  private readonly intake: Intake
  private readonly statusPort: StatusPort | undefined
  /** `/metrics`, `/status.json` and the dashboard, with `http`. */
  private readonly http: HttpEndpoint | undefined
  private readonly guard: CurveGuard | undefined
  /** The owner-only directory of the default worker port; none when `workersBind` is given. */
  private readonly ipcDir: PrivateIpcDir | undefined
  /** Made at bind, once the CURVE certificate (if any) is read: its sockets present the gateway's key. */
  private rejections: Rejections | undefined
  private readonly stats: GatewayStats
  private readonly logger: Logger

  constructor(
    private readonly options: ResolvedGatewayOptions,
    deps: GatewaySocketsDeps,
  ) {
    const o = options
    this.stats = deps.stats
    this.logger = deps.logger
    this.ipcDir = o.workersBind === undefined ? new PrivateIpcDir(`cgw-${deps.shortId}`) : undefined
    this.workersBind = o.workersBind ?? this.ipcDir!.endpoint
    assertBindable(this.workersBind, 'worker port endpoint')
    if (o.statusBind !== undefined) assertBindable(o.statusBind, 'status endpoint')
    if (o.curveSecret !== undefined) {
      const lists = { curveSecret: o.curveSecret, clientsAllow: o.clientsAllow, workersAllow: o.workersAllow, adminsAllow: o.adminsAllow }
      this.guard = new CurveGuard(lists, this.stats.refused, deps.refusedLog, this.logger)
    }
    const guard = this.guard
    this.intake = new Intake(o.bind, { maxMessageBytes: o.maxMessageBytes, highWaterMark: o.intakeHighWaterMark, context: guard?.context('intake') })
    this.workerPort = new WorkerPort(this.workersBind, o.maxMessageBytes, guard?.context('workers'))
    if (o.statusBind !== undefined) this.statusPort = new StatusPort(o.statusBind, guard?.context('status'))
    if (o.http !== undefined) this.http = new HttpEndpoint(o.http, deps.httpRoutes(), this.logger)
  }

  /** Whether the bound sockets take only CURVE peers. */
  get curve(): boolean {
    return this.guard !== undefined
  }

  /** The gateway's CURVE public key (Z85); `undefined` without CURVE. Only once {@link bind} has resolved. */
  get curvePublicKey(): string | undefined {
    return this.guard?.curve.publicKey
  }

  /** The HTTP listener's URL; `undefined` without `http`. Only once {@link bind} has resolved. */
  get httpUrl(): string | undefined {
    return this.http?.url
  }

  /**
   * Binds everything, in this order: CURVE (see {@link secure}), the worker
   * port's directory and the worker port, the rejections, the intake, the
   * status port and the HTTP listener. When one fails, every socket is
   * closed again and the error thrown. Nothing is read until {@link serve}.
   */
  async bind(): Promise<BoundEndpoints> {
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
      await this.rejections?.close(0)
      throw error
    }
    return { endpoint, workersEndpoint }
  }

  /** Answers `gateway-status` with `status` until closed, in the background; without a status port, nothing. */
  serveStatus(status: () => GatewayStatus): void {
    this.statusPort?.serve(status, this.logger)
  }

  /** Reads the intake and the worker port into `sink` until closed, in the background. */
  serve(sink: IntakeSink & WorkerPortSink): void {
    this.intake.serve(sink, this.logger)
    this.workerPort.serve(sink, this.logger)
  }

  /** Sends a `rejected`; before {@link bind} there is nobody to answer, and it is dropped. */
  reject(rejection: Rejection): void {
    this.rejections?.send(rejection)
  }

  /** Re-reads the allow-lists (see Gateway.reloadAllowLists); without CURVE there is nothing to read. */
  async reloadAllowLists(): Promise<AllowListReload[]> {
    if (this.guard === undefined) {
      this.logger.info('no allow-lists to re-read: CURVE is off')
      return []
    }
    return this.guard.reload()
  }

  /** The status view's `security`; the key and the allow-lists' sizes only once the gateway says it is `started`. */
  securityStatus(started: boolean): NonNullable<GatewayStatus['security']> {
    const replyAllow = this.options.replyAllow === undefined ? {} : { replyAllow: [...this.options.replyAllow] }
    if (this.guard === undefined || !started) return { curve: this.guard !== undefined, ...replyAllow }
    return { curve: true, publicKey: this.guard.curve.publicKey, allowed: this.guard.sizes(), ...replyAllow }
  }

  /** Closes every socket and removes their files, then gives the rejections up to `lingerMs` to leave. */
  async close(lingerMs: number): Promise<void> {
    this.closeSockets()
    await this.removeFiles()
    await this.rejections?.close(lingerMs)
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
}
