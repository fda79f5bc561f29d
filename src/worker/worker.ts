/**
 * A worker: a DEALER that joins a gateway, takes up to `capacity` batches at
 * once, runs their commands concurrently (at most `concurrency`), PUSHes each
 * batch's result straight to the client's `replyTo`, then tells the gateway
 * `done`. On the poison pill it finishes what it holds, delivers it, says
 * `bye` and closes.
 *
 * This class only wires the parts together and owns the shutdown:
 * - {@link GatewaySession}: the connection, `ready`, heartbeats, reconnects;
 * - {@link BatchRunner}: fair slots, time limits, outcomes;
 * - {@link ResultDelivery}: result to the client, then `done`;
 * - {@link Holdings}: the batches held, since when, and the stats they add to;
 * - {@link ExecutorCloser}: the executor's `close()`, once, after its last command;
 * - {@link MetricsListener}: `/metrics`, with `http`.
 */
import { EventEmitter } from 'node:events'
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { TaskHeader } from '../protocol/types.js'
import { warmUpCodec } from '../protocol/warm-up.js'
import { warmUpTransport } from '../transport/warm-up.js'
import { ReplySockets } from '../transport/reply-sockets.js'
import { RateLimitedLog, silentLogger, type Logger } from '../log.js'
import { readPeerKeys } from '../security/peer-keys.js'
import { background } from '../util/background.js'
import { monotonicClock } from '../util/clock.js'
import { BatchRunner, type HeldBatch } from './batch-runner.js'
import { zeroWorkerStats, type WorkerEvents, type WorkerStats } from './events.js'
import { ExecutorCloser } from './executor-closer.js'
import { Holdings } from './holdings.js'
import { MetricsListener } from './metrics-listener.js'
import { ResultDelivery } from './result-delivery.js'
import { GatewaySession } from './session.js'
import { resolveWorkerOptions, workerDefaults, type WorkerOptions } from './options.js'
export { workerDefaults, type WorkerOptions }
export type { WorkerEvents, WorkerStats }

/**
 * The worker owns its executor's `close()`: called once, after the last
 * command ended, whichever way the worker closes.
 *
 * @example
 * const worker = new Worker({ gateway: 'ipc:///tmp/gw.sock', executor: await loadExecutor(deviceMapSpec('devices.txt'), context) })
 * worker.start()
 * await worker.closed // resolves after the gateway's poison pill
 */
export class Worker extends EventEmitter<WorkerEvents> {
  readonly id: string
  readonly stats: WorkerStats = zeroWorkerStats()
  private readonly logger: Logger
  private readonly malformedLog: RateLimitedLog
  /** Tasks refused while stopping: one line per gateway message at most ten a second. */
  private readonly lateLog: RateLimitedLog
  private readonly droppedLog: RateLimitedLog
  private readonly replies: ReplySockets
  private readonly session: GatewaySession
  private readonly runner: BatchRunner
  private readonly delivery: ResultDelivery
  /** Its `close()`, once, whichever way the worker closes. */
  private readonly executorCloser: ExecutorCloser
  /** Batches taken and not yet delivered or given up. */
  private readonly held = new Holdings<HeldBatch>(this.stats, monotonicClock)
  /** `/metrics`, with `http`. */
  private readonly metrics: MetricsListener | undefined
  private stopping: Promise<void> | undefined
  private forcing: Promise<void> | undefined
  private closedEmitted = false
  private resolveClosed!: () => void
  /** Resolves when the worker has closed, whoever asked it to. */
  readonly closed: Promise<void> = new Promise((resolve) => (this.resolveClosed = resolve))

  constructor(options: WorkerOptions) {
    super()
    const o = resolveWorkerOptions(options)
    this.id = options.id ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
    this.logger = (options.logger ?? silentLogger()).child({ worker: this.id })
    this.malformedLog = new RateLimitedLog(this.logger)
    this.lateLog = new RateLimitedLog(this.logger)
    this.droppedLog = new RateLimitedLog(this.logger)
    const keys = readPeerKeys(o)
    if (keys !== undefined) this.logger.info({ curveSecret: keys.identityFile, publicKey: keys.identity.publicKey, serverKey: keys.serverKeys[0] }, 'CURVE on')
    // Results to a task's replyKey go out under our own key, so a client's --workers-allow can name us.
    this.replies = new ReplySockets(keys === undefined ? options.reply : { ...options.reply, curve: keys.identity })
    const curve = keys === undefined ? undefined : { identity: keys.identity, serverKey: keys.serverKeys[0]! }
    this.session = new GatewaySession({ ...o, workerId: this.id, logger: this.logger, counters: this.stats, curve }, {
      task: (header, body, session) => this.take(header, body, session),
      // Its commands settle code 4 at once; the batches go on to delivery as any other.
      cancel: (client) => this.runner.cancel(client),
      stop: () => background(this.stop(), this.logger, 'stop'),
      ready: () => this.emit('ready'),
      lost: () => this.emit('gateway:lost'),
    })
    this.runner = new BatchRunner({
      ...o,
      // A throwing 'batch:done' listener must not become an unhandled rejection.
      onSettled: (batch) => background(this.finish(batch), this.logger, `batch ${batch.header.id}`),
    })
    this.delivery = new ResultDelivery({
      workerId: this.id,
      capacity: o.capacity,
      replies: this.replies,
      done: (id, client, session, report) => this.session.done(id, client, session, report),
      droppedLog: this.droppedLog,
      counters: this.stats,
    })
    this.executorCloser = new ExecutorCloser(o.executor, this.runner, this.logger)
    if (o.http !== undefined) this.metrics = new MetricsListener(o.http, this, this.logger)
  }

  /**
   * With `http`: binds the HTTP listener of `/metrics` and resolves with its
   * URL (the real port when asked for 0); without, resolves undefined. Call
   * it before {@link start}, so that a port in use fails before the worker
   * joins its gateway. It rejects with a `ConfigError` (`ERR_ENDPOINT`)
   * naming the address. Idempotent; every close closes the listener.
   *
   * @example
   * const worker = new Worker({ gateway, executor, http: '127.0.0.1:9101' })
   * console.log(`metrics at ${await worker.listen()}/metrics`)
   * worker.start()
   */
  listen(): Promise<string | undefined> {
    if (this.metrics === undefined) return Promise.resolve(undefined)
    if (this.stopping !== undefined || this.forcing !== undefined) return Promise.reject(new Error('worker is closing'))
    return this.metrics.listen()
  }

  /** The URL of `/metrics` once {@link listen} has bound it; undefined before, and without `http`. */
  get httpUrl(): string | undefined {
    return this.metrics?.url
  }

  /** Batches currently held. */
  get holding(): number {
    return this.held.size
  }

  /**
   * Optional, before {@link start}: runs the codec, the send path and the
   * queue a few hundred times so the first batches run compiled code. Forked
   * workers do it while the gateway is still starting.
   */
  async warmUp(): Promise<void> {
    warmUpCodec(200)
    await warmUpTransport()
    await this.runner.warmUp()
  }

  /** Connects to the gateway and announces this worker's capacity; `ready` is emitted once that is sent. */
  start(): void {
    if (this.session.started || this.stopping !== undefined) return
    warmUpCodec()
    this.session.start()
  }

  /**
   * Takes nothing new, finishes and delivers what it holds, says `bye`, and
   * closes. Idempotent: later calls return the same promise.
   */
  stop(): Promise<void> {
    if (this.forcing !== undefined) return this.forcing
    this.stopping ??= this.finishAndLeave()
    return this.stopping
  }

  /**
   * Closes the worker. With `force`, running commands are aborted and
   * undelivered results are dropped; otherwise this is {@link stop}.
   */
  close(options: { force?: boolean } = {}): Promise<void> {
    if (options.force !== true) return this.stop()
    this.forcing ??= this.forceClose()
    return this.forcing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  private take(header: TaskHeader, body: Buffer | undefined, session: number): void {
    if (this.stopping !== undefined || this.forcing !== undefined) {
      // Stopping means taking nothing new. Left unacknowledged, it goes back to the
      // gateway's queue when our bye arrives.
      this.lateLog.warn({ id: header.id, client: header.client }, 'task arrived after stopping; left for the gateway to requeue')
      return
    }
    const batch = this.runner.decode(header, body, session)
    if (typeof batch === 'string') {
      this.stats.malformed++
      this.malformedLog.warn({ id: header.id, client: header.client, reason: batch }, 'malformed task body')
      void this.session.done(header.id, header.client, session)
      return
    }
    this.replies.prepare(header.replyTo, header.replyKey)
    this.held.take(batch)
    this.runner.start(batch)
  }

  private async finish(batch: HeldBatch): Promise<void> {
    batch.pairs = []
    const report = this.held.settle(batch)
    this.metrics?.batchDuration(report.ms)
    const delivered = await this.delivery.deliver(batch, report)
    // Held until delivered or given up, so that stopping still delivers what it finished.
    this.held.release(batch)
    try {
      this.emit('batch:done', { id: batch.header.id, client: batch.header.client, commands: batch.commands, delivered })
    } finally {
      this.held.wakeIfIdle() // even when a listener threw: a stop() waiting for this batch would wait for ever
    }
  }

  private async finishAndLeave(): Promise<void> {
    this.emit('closing')
    this.session.leave()
    this.logger.info({ holding: this.held.size }, 'stopping: finishing held batches')
    if (this.held.size > 0) await this.held.idle()
    if (this.forcing !== undefined) return this.forcing // closed by force meanwhile
    // Its last command has ended; bye need not wait for it to close.
    const executorClosed = this.executorCloser.close()
    await this.replies.close()
    await this.session.bye()
    this.session.close(1000)
    await executorClosed
    await this.metrics?.close()
    this.finishClose()
  }

  private async forceClose(): Promise<void> {
    if (this.closedEmitted) return
    if (this.stopping === undefined) this.emit('closing')
    this.runner.abort()
    this.session.close(0)
    background(this.replies.close(0), this.logger, 'closing reply sockets')
    this.held.wakeAll()
    await this.executorCloser.closeAfterAbort()
    await this.metrics?.close()
    this.finishClose()
  }

  private finishClose(): void {
    if (this.closedEmitted) return
    this.closedEmitted = true
    this.malformedLog.flush()
    this.lateLog.flush()
    this.droppedLog.flush()
    this.logger.info(this.stats, 'worker closed')
    this.emit('closed')
    this.resolveClosed()
  }
}
