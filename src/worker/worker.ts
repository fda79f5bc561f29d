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
 * - {@link ResultDelivery}: result to the client, then `done`.
 */
import { EventEmitter } from 'node:events'
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { TaskHeader } from '../protocol/types.js'
import { warmUpCodec } from '../protocol/warm-up.js'
import { warmUpTransport } from '../transport/warm-up.js'
import { ReplySockets } from '../transport/reply-sockets.js'
import { RateLimitedLog, silentLogger, type Logger } from '../log.js'
import { errorMessage } from '../errors.js'
import { readPeerKeys } from '../security/peer-keys.js'
import { background } from '../util/background.js'
import { monotonicClock } from '../util/clock.js'
import { HttpEndpoint } from '../http/http-endpoint.js'
import { WorkerMetrics } from '../metrics/worker-metrics.js'
import { BatchRunner, type HeldBatch } from './batch-runner.js'
import { tallyOutcomes, type OutcomeTally } from './outcome-tally.js'
import { addOutcomeCounts, addStateCounts, zeroCommandCounts, zeroStateTotals, type CommandCounts, type StateTotals } from '../protocol/outcome-totals.js'
import { ResultDelivery } from './result-delivery.js'
import { GatewaySession } from './session.js'
import { resolveWorkerOptions, workerDefaults, type ResolvedWorkerOptions, type WorkerOptions } from './options.js'
export { workerDefaults, type WorkerOptions }

/** Events of a {@link Worker}. */
export interface WorkerEvents {
  /** `ready` was handed to ZeroMQ for the gateway (again after every reconnect); never inside `start()`. */
  ready: []
  /** A batch finished; `delivered` is false when its client did not accept the result. */
  'batch:done': [batch: { id: string; client: string; commands: number; delivered: boolean }]
  /** The gateway was silent for `heartbeatLiveness` intervals; the worker reconnects. */
  'gateway:lost': []
  /** Stopping began (poison pill, `stop()` or `close()`). */
  closing: []
  /** Everything is closed. */
  closed: []
}

/** Counters of a worker, for monitoring and tests. */
export interface WorkerStats {
  /** Batches taken (a malformed body is counted in `malformed`). */
  batches: number
  /** Commands of the batches taken. */
  commands: number
  /** Commands of the batches finished, by outcome (as their `done` reports them). */
  outcomes: CommandCounts
  /** Check results (code 0 with a `state`) of the batches finished, by state. */
  states: StateTotals
  resultsDropped: number
  malformed: number
  reconnects: number
}

/** How long a forced close waits for aborted commands to end; the executor's close() waits for them regardless. */
const FORCED_DRAIN_MS = 1000

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
  readonly stats: WorkerStats = {
    batches: 0,
    commands: 0,
    outcomes: zeroCommandCounts(),
    states: zeroStateTotals(),
    resultsDropped: 0,
    malformed: 0,
    reconnects: 0,
  }
  private readonly options: ResolvedWorkerOptions
  private readonly logger: Logger
  private readonly malformedLog: RateLimitedLog
  /** Tasks refused while stopping: one line per gateway message at most ten a second. */
  private readonly lateLog: RateLimitedLog
  private readonly droppedLog: RateLimitedLog
  private readonly replies: ReplySockets
  private readonly session: GatewaySession
  private readonly runner: BatchRunner
  private readonly delivery: ResultDelivery
  /** Batches taken and not yet delivered or given up, with when each was taken (for its `done`'s `ms`). */
  private readonly held = new Map<HeldBatch, number>()
  private readonly clock = monotonicClock
  /** `/metrics`, with `http`. */
  private readonly metrics: WorkerMetrics | undefined
  private readonly http: HttpEndpoint | undefined
  private listening: Promise<string> | undefined
  private idleWaiters: (() => void)[] = []
  private stopping: Promise<void> | undefined
  private forcing: Promise<void> | undefined
  private executorClosing: Promise<void> | undefined
  private closedEmitted = false
  private resolveClosed!: () => void
  /** Resolves when the worker has closed, whoever asked it to. */
  readonly closed: Promise<void> = new Promise((resolve) => (this.resolveClosed = resolve))

  constructor(options: WorkerOptions) {
    super()
    const o = (this.options = resolveWorkerOptions(options))
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
    if (o.http !== undefined) {
      this.metrics = new WorkerMetrics(this)
      this.http = new HttpEndpoint(o.http, this.metrics.routes, this.logger)
    }
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
    const http = this.http
    if (http === undefined) return Promise.resolve(undefined)
    if (this.stopping !== undefined || this.forcing !== undefined) return Promise.reject(new Error('worker is closing'))
    this.listening ??= http.start()
    return this.listening
  }

  /** The URL of `/metrics` once {@link listen} has bound it; undefined before, and without `http`. */
  get httpUrl(): string | undefined {
    try {
      return this.http?.url
    } catch {
      return undefined // not bound yet
    }
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
    this.held.set(batch, this.clock())
    this.stats.batches++
    this.stats.commands += batch.commands
    this.runner.start(batch)
  }

  private async finish(batch: HeldBatch): Promise<void> {
    batch.pairs = []
    const now = this.clock()
    // Microseconds are plenty, and keep the float short on the wire.
    const ms = Math.round((now - (this.held.get(batch) ?? now)) * 1000) / 1000
    const tally = tallyOutcomes(batch.outcomes)
    this.count(tally)
    this.metrics?.batchDuration(ms)
    const delivered = await this.delivery.deliver(batch, { ...tally, ms })
    // Held until delivered or given up, so that stopping still delivers what it finished.
    this.held.delete(batch)
    const { id, client } = batch.header
    this.emit('batch:done', { id, client, commands: batch.commands, delivered })
    if (this.held.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve()
  }

  private count({ counts, states }: OutcomeTally): void {
    addOutcomeCounts(this.stats.outcomes, counts)
    if (states !== undefined) addStateCounts(this.stats.states, states)
  }

  private async finishAndLeave(): Promise<void> {
    this.emit('closing')
    this.session.leave()
    this.logger.info({ holding: this.held.size }, 'stopping: finishing held batches')
    if (this.held.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    if (this.forcing !== undefined) return this.forcing // closed by force meanwhile
    // Its last command has ended; bye need not wait for it to close.
    const executorClosed = this.closeExecutor()
    await this.replies.close()
    await this.session.bye()
    this.session.close(1000)
    await executorClosed
    await this.closeHttp()
    this.finishClose()
  }

  private async forceClose(): Promise<void> {
    if (this.closedEmitted) return
    if (this.stopping === undefined) this.emit('closing')
    this.runner.abort()
    this.session.close(0)
    background(this.replies.close(0), this.logger, 'closing reply sockets')
    for (const resolve of this.idleWaiters.splice(0)) resolve()
    // Aborted commands end at once with an executor that honours its signal; one that
    // does not must not hold the close forever.
    let timer: NodeJS.Timeout | undefined
    const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), FORCED_DRAIN_MS)))
    const ended = await Promise.race([this.runner.idle().then(() => true), gaveUp])
    clearTimeout(timer)
    if (ended) await this.closeExecutor()
    else background(this.closeExecutor(), this.logger, 'closing the executor')
    await this.closeHttp()
    this.finishClose()
  }

  /** Stops the HTTP listener, if it was started (a bind that failed leaves nothing to close). */
  private async closeHttp(): Promise<void> {
    const listening = this.listening
    if (this.http === undefined || listening === undefined) return
    try {
      await listening
      await this.http.close()
    } catch {
      // Never bound, or already closed: nothing is listening.
    }
  }

  /** Calls the executor's `close()` once, after its last command ended. */
  private closeExecutor(): Promise<void> {
    this.executorClosing ??= this.runner.idle().then(async () => {
      try {
        await this.options.executor.close?.()
      } catch (error) {
        this.logger.warn({ err: errorMessage(error) }, 'executor close failed')
      }
    })
    return this.executorClosing
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
