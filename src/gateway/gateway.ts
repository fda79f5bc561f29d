/**
 * The gateway: a PULL intake that validates and queues batches, a ROUTER
 * that hands them to workers with free capacity (forwarding the body frame
 * untouched) and tracks who holds what, and the pool of forked workers. It
 * never runs a command.
 */
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { Pull, Reply, Router } from 'zeromq'
import { ConfigError, errorMessage } from '../errors.js'
import { HEARTBEAT_FRAME, STOP_FRAME, rejectedFrame, taskFrame } from '../protocol/frames.js'
import { Limits } from '../protocol/limits.js'
import { scanCommandPairs } from '../protocol/msgpack-scan.js'
import type { RejectReason, TaskHeader } from '../protocol/types.js'
import { warmUpCodec } from '../protocol/warm-up.js'
import { warmUpTransport } from '../transport/warm-up.js'
import { validateIntakeHeader, validateWorkerHeader } from '../protocol/validate.js'
import { assertBindable, ipcPath, removeStaleIpcFiles, uniqueIpcEndpoint } from '../transport/endpoint.js'
import { ReplySockets } from '../transport/reply-sockets.js'
import { Sender } from '../transport/sender.js'
import { receiveLoop } from '../transport/receive-loop.js'
import { RateLimitedLog, silentLogger, type Logger } from '../log.js'
import { background } from '../util/background.js'
import { DispatchQueue, type QueuedBatch } from './dispatch-queue.js'
import { WorkerPool } from './worker-pool.js'
import { WorkerSession } from './worker-session.js'
import { CreditRing } from './credit-ring.js'
import { BatchIndex } from './batch-index.js'
import { SecondRuns } from './second-runs.js'
import { serveStatus, type GatewayStatus } from './status.js'
import { gatewayDefaults, resolveGatewayOptions, type GatewayOptions, type ResolvedGatewayOptions } from './options.js'
export { gatewayDefaults, type GatewayOptions }

export type WorkerLossReason = 'heartbeat' | 'exited' | 'unreachable' | 'hold-timeout'

/** Events of a {@link Gateway}. */
export interface GatewayEvents {
  /** Both sockets are bound. */
  listening: [endpoints: { endpoint: string; workersEndpoint: string }]
  /** A worker process was forked. */
  'worker:spawn': [worker: { id: string; pid: number }]
  /** A worker (forked or remote) said `ready`; `capacity` is what it may hold (its declared one, capped). */
  'worker:ready': [worker: { id: string; capacity: number }]
  /** A `ready` was refused: its worker id belongs to another live connection, or too many workers are connected. */
  'worker:refused': [worker: { id: string; reason: 'id-in-use' | 'too-many-workers' }]
  /** A worker was lost; what it held went back to the queue or was rejected. */
  'worker:lost': [worker: { id: string; reason: WorkerLossReason; requeued: number }]
  /** An idle forked worker beyond `minWorkers` was sent the poison pill. */
  'worker:retire': [worker: { id: string; idleMs: number }]
  /** A forked worker process exited. */
  'worker:exit': [worker: { id: string; pid: number; code: number | null; signal: string | null }]
  /** A batch was rejected. */
  'batch:rejected': [batch: { id: string; client: string; reason: RejectReason }]
  /** A client's `abort` removed its queued batches (and later ones that arrive from it). */
  abort: [abort: { client: string; dropped: number }]
  /** A message was malformed; it was counted and dropped (or answered `rejected`). */
  malformed: [message: { source: 'intake' | 'workers'; reason: string }]
  /** Shutdown began. */
  closing: []
  /** Everything is closed and every forked worker has exited. */
  closed: []
}

/** Counters of a gateway, for monitoring and tests. */
export interface GatewayStats {
  received: number
  malformed: number
  duplicates: number
  /** Resends of a batch a worker still held, run again beside it on another worker. */
  speculative: number
  dispatched: number
  completed: number
  requeued: number
  aborted: number
  rejected: Record<RejectReason, number>
  /** Rejections that could not be handed to their client's socket (gone, evicted, never there). */
  undelivered: number
  workersSpawned: number
  workersLost: number
  /** `ready` messages refused (an id in use by another connection, or too many workers). */
  workersRefused: number
}

/** How the worker ports' ipc files begin: `cgw-` and the gateway's 6-hex short id. */
const WORKER_PORT_PREFIX = /cgw-[0-9a-f]{6}/

/** Aborted clients remembered, so batches of theirs still on the way are dropped too. */
const ABORTED_CLIENTS_MAX = 10_000
const ABORTED_CLIENT_TTL_MS = 10 * 60_000

/**
 * @example
 * const gateway = new Gateway({ bind: 'tcp://127.0.0.1:5557', mapFile: 'devices.txt' })
 * await gateway.start()
 * process.once('SIGINT', () => void gateway.close())
 */
export class Gateway extends EventEmitter<GatewayEvents> {
  readonly stats: GatewayStats = {
    received: 0,
    malformed: 0,
    duplicates: 0,
    speculative: 0,
    dispatched: 0,
    completed: 0,
    requeued: 0,
    aborted: 0,
    rejected: { malformed: 0, 'too-large': 0, 'queue-full': 0, 'shutting-down': 0, 'attempts-exhausted': 0, 'not-allowed': 0 },
    undelivered: 0,
    workersSpawned: 0,
    workersLost: 0,
    workersRefused: 0,
  }
  private readonly options: ResolvedGatewayOptions
  private readonly logger: Logger
  private readonly malformedLog: RateLimitedLog
  private readonly undeliveredLog: RateLimitedLog
  private readonly workerLog: RateLimitedLog
  private readonly refusedLog: RateLimitedLog
  private readonly abortLog: RateLimitedLog
  /** Client id to the time its abort is forgotten; insertion order is expiry order. */
  private readonly abortedClients = new Map<string, number>()
  private readonly queue: DispatchQueue
  private readonly replies: ReplySockets
  private readonly intake: Pull
  private readonly router: Router
  private readonly statusSocket: Reply | undefined
  private readonly startedAt = performance.now()
  private readonly routerSender: Sender
  private readonly pool: WorkerPool | undefined
  /** Connected workers by routing id (the ROUTER's, so no peer can pick another's). */
  private readonly workers = new Map<string, WorkerSession>()
  /** The same workers by their CGP/1 id: a `ready` claiming a live worker's id is refused. */
  private readonly workersById = new Map<string, WorkerSession>()
  private readonly credit = new CreditRing<WorkerSession>()
  private readonly secondRuns: SecondRuns
  /** Forked workers sent the poison pill for idleness, until their process exits: id → when to SIGKILL it. */
  private readonly retiring = new Map<string, number>()
  /** Every batch queued or held by a worker, by client and id: a resend of one is not queued twice. */
  private readonly inside = new BatchIndex<QueuedBatch>()
  private readonly workersBind: string
  private ticker: NodeJS.Timeout | undefined
  private closing: Promise<void> | undefined
  private forced = false
  private boundEndpoint: string | undefined
  private statusBound = false

  constructor(options: GatewayOptions = {}) {
    super()
    const o = resolveGatewayOptions(options)
    this.options = o
    const shortId = randomBytes(3).toString('hex')
    this.workersBind = o.workersBind ?? uniqueIpcEndpoint(`cgw-${shortId}`)
    assertBindable(this.workersBind, 'worker port endpoint')
    this.logger = (o.logger ?? silentLogger()).child({ role: 'gateway' })
    this.malformedLog = new RateLimitedLog(this.logger)
    this.undeliveredLog = new RateLimitedLog(this.logger)
    this.workerLog = new RateLimitedLog(this.logger)
    this.refusedLog = new RateLimitedLog(this.logger)
    this.abortLog = new RateLimitedLog(this.logger)

    this.queue = new DispatchQueue(o.queueLimit, o.queueBytes)
    this.secondRuns = new SecondRuns(this.queue)
    // Rejections are small, but a flood of them for vanished clients must stay bounded too.
    // At shutdown every queued batch of a client is rejected at once, so leave room for a full queue.
    this.replies = new ReplySockets({ maxBacklog: o.queueLimit + 10_000, ...o.reply })
    this.intake = new Pull({ linger: 0, maxMessageSize: o.maxMessageBytes, receiveHighWaterMark: o.intakeHighWaterMark })
    // No handover: a second connection claiming a connected routing id is refused by ZeroMQ
    // instead of taking over the first one's tasks.
    this.router = new Router({ linger: 0, maxMessageSize: o.maxMessageBytes, mandatory: true, handover: false })
    if (o.statusBind !== undefined) {
      assertBindable(o.statusBind, 'status endpoint')
      this.statusSocket = new Reply({ linger: 0, maxMessageSize: 1024 })
    }
    // A ROUTER send that cannot go out at once means that worker is stuck; never block the others on it.
    this.routerSender = new Sender(this.router, this.workersBind, { retries: 0, retryDelayMs: 0, failFast: false })
    if (o.maxWorkers > 0) {
      this.pool = new WorkerPool(
        {
          gateway: this.workersBind,
          executor: o.executor!,
          capacity: o.capacity,
          concurrency: o.concurrency,
          commandTimeoutMs: o.commandTimeoutMs,
          heartbeatIntervalMs: o.heartbeatIntervalMs,
          heartbeatLiveness: o.heartbeatLiveness,
          maxBatch: o.maxBatch,
          maxMessageBytes: o.maxMessageBytes,
          logLevel: o.workerLogLevel ?? this.logger.level,
          gatewayPid: process.pid,
        },
        `gw${shortId}`,
        this.logger,
      )
      this.pool.on('spawn', (worker) => {
        this.stats.workersSpawned++
        this.logger.debug(worker, 'worker forked')
        this.emit('worker:spawn', worker)
      })
      this.pool.on('exit', (worker) => this.onWorkerExit(worker.id, worker.pid, worker.code, worker.signal))
    }
  }

  /** The intake endpoint as bound (the real port when bound to `:*`). */
  get endpoint(): string {
    if (this.boundEndpoint === undefined) throw new Error('gateway not started')
    return this.boundEndpoint
  }

  /** The worker port endpoint. */
  get workersEndpoint(): string {
    return this.workersBind
  }

  /** Batches waiting for a worker. */
  get queued(): number {
    return this.queue.length
  }

  /** Pids of the live forked workers. */
  get workerPids(): number[] {
    return this.pool?.pids ?? []
  }

  /** Workers connected and ready. */
  get connectedWorkers(): number {
    return this.workers.size
  }

  /** What `gateway-status` shows: queue depth per client, workers, pool and counters. */
  status(): GatewayStatus {
    const now = Date.now()
    const pool = this.pool
    return {
      uptimeMs: Math.round(performance.now() - this.startedAt),
      endpoint: this.boundEndpoint ?? this.options.bind,
      workersEndpoint: this.workersBind,
      queue: {
        batches: this.queue.length,
        bytes: this.queue.bytes,
        heldBytes: this.queue.held,
        clients: this.queue.deepest(50),
        clientCount: this.queue.clients,
      },
      workers: [...this.workers.values()].map((w) => {
        const pid = w.forked ? pool?.get(w.id)?.pid : undefined
        return {
          id: w.id,
          kind: w.forked ? 'forked' : 'remote',
          ...(pid === undefined ? {} : { pid }),
          capacity: w.capacity,
          inFlight: w.holding,
          lastHeardMs: now - w.lastSeen,
          served: w.served,
        }
      }),
      pool: {
        forked: pool?.size ?? 0,
        starting: pool?.starting ?? 0,
        retiring: this.retiring.size,
        min: this.options.minWorkers,
        max: this.options.maxWorkers,
      },
      counters: { ...this.stats, rejected: { ...this.stats.rejected } },
    }
  }

  /**
   * Binds both sockets, forks the first worker(s) and starts serving. When a
   * socket cannot bind, nothing has been forked and everything is closed.
   */
  async start(): Promise<void> {
    // Gateways killed by SIGKILL leave their worker port's file behind; sweep those up.
    const stale = await removeStaleIpcFiles(WORKER_PORT_PREFIX)
    if (stale > 0) this.logger.debug({ removed: stale }, 'socket files of gateways that are gone removed')
    try {
      await this.router.bind(this.workersBind)
    } catch (error) {
      this.closeSockets()
      throw new ConfigError('ERR_ENDPOINT', `cannot bind worker port ${this.workersBind}: ${errorMessage(error)}`, { cause: error })
    }
    try {
      await this.intake.bind(this.options.bind)
    } catch (error) {
      this.closeSockets()
      await this.removeIpcFile()
      throw new ConfigError('ERR_ENDPOINT', `cannot bind intake ${this.options.bind}: ${errorMessage(error)}`, { cause: error })
    }
    if (this.statusSocket !== undefined) {
      try {
        await this.statusSocket.bind(this.options.statusBind!)
      } catch (error) {
        this.closeSockets()
        await this.removeIpcFile()
        throw new ConfigError('ERR_ENDPOINT', `cannot bind status endpoint ${this.options.statusBind}: ${errorMessage(error)}`, { cause: error })
      }
      this.statusBound = true
      background(serveStatus(this.statusSocket, () => this.status(), this.logger), this.logger, 'status port')
    }
    // Fork before warming up: a worker takes ~250 ms to boot, and the warm-up runs meanwhile.
    this.grow()
    warmUpCodec(200)
    await warmUpTransport()
    this.boundEndpoint = this.intake.lastEndpoint ?? this.options.bind
    const interval = this.options.heartbeatIntervalMs
    this.ticker = setInterval(() => this.tick(), Math.max(10, Math.floor(interval / 2)))
    const intake = receiveLoop(this.intake, (frames) => this.onIntake(frames), {
      logger: this.logger,
      what: 'intake',
      // Stop reading while the queue is full: ZeroMQ's high-water marks then push back on clients.
      beforeReceive: () => (this.queue.isFull && !this.intake.closed ? this.queue.whenNotFull() : undefined),
    })
    background(intake, this.logger, 'intake loop')
    background(receiveLoop(this.router, (frames) => this.onWorkerMessage(frames), { logger: this.logger, what: 'worker port' }), this.logger, 'worker port loop')
    this.logger.info({ endpoint: this.boundEndpoint, workersEndpoint: this.workersBind }, 'gateway listening')
    this.emit('listening', { endpoint: this.boundEndpoint, workersEndpoint: this.workersBind })
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

  private onIntake(frames: Buffer[]): void {
    this.stats.received++
    const validated = validateIntakeHeader(frames[0]!)
    if (!validated.ok) {
      this.onMalformed('intake', validated.reason)
      if (validated.replyTo !== undefined) {
        this.reject(validated.replyTo, validated.id ?? '-', validated.client ?? '-', 'malformed', false)
      }
      return
    }
    const header = validated.header
    if (header.type === 'abort') {
      if (frames.length !== 1) return this.onMalformed('intake', 'abort must have no body frame')
      this.onAbort(header.client)
      return
    }
    if (frames.length !== 2) {
      this.onMalformed('intake', `task must have 2 frames, got ${frames.length}`)
      this.reject(header.replyTo, header.id, header.client, 'malformed', false)
      return
    }
    this.onTask(header, frames[1]!)
  }

  private onTask(header: TaskHeader, body: Buffer): void {
    const { id, client, replyTo, attempt } = header
    if (this.closing !== undefined) return this.reject(replyTo, id, client, 'shutting-down', true)
    const counted = scanCommandPairs(body, this.options.maxBatch)
    if (counted === 'too-large') return this.reject(replyTo, id, client, 'too-large', false)
    if (typeof counted === 'string') {
      this.onMalformed('intake', `task ${id}: ${counted}`)
      return this.reject(replyTo, id, client, 'malformed', false)
    }
    if (this.abortedClients.size > 0 && this.wasAborted(client)) {
      // Sent before the client's abort reached us (another connection, or a resend on its way).
      this.stats.aborted++
      return
    }
    const inside = this.inside.get(client, id)
    if (inside !== undefined) return this.onResend(inside, attempt)
    const batch: QueuedBatch = { id, client, replyTo, attempt, runs: 0, body, commands: counted, queued: false, secondRun: false, holders: 0 }
    this.inside.set(client, id, batch)
    this.queue.push(batch)
    this.dispatch()
  }

  /**
   * A client's resend of a batch that is inside. Still queued (or already
   * waiting for a second run): it will run, so the resend is dropped. Held by a
   * worker: that worker may be a straggler (or a hoarder), so the batch runs
   * again on another worker beside it, as work queues do for stragglers; the
   * first result wins and the client drops the other. Runs going on at once
   * stay within `maxAttempts`.
   */
  private onResend(batch: QueuedBatch, attempt: number): void {
    if (batch.queued || batch.secondRun || batch.holders >= this.options.maxAttempts) {
      this.stats.duplicates++
      return
    }
    batch.attempt = Math.max(batch.attempt, attempt)
    this.stats.speculative++
    this.secondRuns.add(batch)
    this.dispatch()
  }

  private onAbort(client: string): void {
    this.rememberAbort(client)
    const dropped = [...this.queue.removeClient(client), ...this.secondRuns.withdrawWhere((b) => b.client === client)]
    let aborted = 0
    for (const batch of dropped) {
      // A batch still running elsewhere stays inside until that run ends; only the others are dropped.
      if (batch.holders > 0) continue
      this.inside.take(batch.client, batch.id)
      aborted++
    }
    this.stats.aborted += aborted
    this.abortLog.info({ client, dropped: aborted }, 'client aborted; queued batches dropped')
    this.emit('abort', { client, dropped: aborted })
  }

  private rememberAbort(client: string): void {
    this.abortedClients.delete(client)
    if (this.abortedClients.size >= ABORTED_CLIENTS_MAX) {
      const oldest = this.abortedClients.keys().next().value
      if (oldest !== undefined) this.abortedClients.delete(oldest)
    }
    this.abortedClients.set(client, Date.now() + ABORTED_CLIENT_TTL_MS)
  }

  private wasAborted(client: string): boolean {
    const until = this.abortedClients.get(client)
    if (until === undefined) return false
    if (until > Date.now()) return true
    this.abortedClients.delete(client)
    return false
  }

  private onMalformed(source: 'intake' | 'workers', reason: string): void {
    this.stats.malformed++
    this.malformedLog.warn({ source, reason }, 'malformed message')
    this.emit('malformed', { source, reason })
  }

  private reject(replyTo: string, id: string, client: string, reason: RejectReason, retryable: boolean): void {
    this.stats.rejected[reason]++
    this.emit('batch:rejected', { id, client, reason })
    this.replies.send(replyTo, [rejectedFrame(id, client, reason, retryable)]).catch((error: unknown) => {
      this.stats.undelivered++
      this.undeliveredLog.warn({ id, client, replyTo, reason, err: errorMessage(error) }, 'rejection not delivered')
    })
  }

  /**
   * Hands waiting batches to workers with free credit, one batch per worker per
   * turn: second runs first, then the queue. A batch never goes to a worker
   * that holds a copy of the same client and id. Then grows the pool if work
   * still waits.
   */
  private dispatch(): void {
    if (this.secondRuns.length > 0) this.secondRuns.offer(this.placeSecondRun, this.hasCredit)
    while (this.queue.length > 0 && this.credit.hasCredit) {
      const batch = this.queue.shift()!
      const worker = this.freeWorkerFor(batch)
      // Every free worker still runs an earlier copy of this id (finished elsewhere): it waits aside.
      if (worker === undefined) this.secondRuns.add(batch)
      else this.handTo(worker, batch)
    }
    if (this.queue.length > 0 || this.secondRuns.length > 0) this.grow()
  }

  /** The next worker in turn with free capacity that holds no copy of `batch`'s client and id. */
  private freeWorkerFor(batch: QueuedBatch): WorkerSession | undefined {
    return this.credit.take((worker) => !worker.holdsId(batch.client, batch.id))
  }

  private readonly hasCredit = (): boolean => this.credit.hasCredit

  private readonly placeSecondRun = (batch: QueuedBatch): boolean => {
    const worker = this.freeWorkerFor(batch)
    if (worker !== undefined) this.handTo(worker, batch)
    return worker !== undefined
  }

  private handTo(worker: WorkerSession, batch: QueuedBatch): void {
    worker.hold(batch, Date.now())
    batch.holders++
    batch.runs++
    this.queue.hold(batch.body.length)
    this.stats.dispatched++
    this.credit.offer(worker)
    this.sendToWorker(worker, [taskFrame(batch.id, batch.client, batch.replyTo, batch.attempt), batch.body])
  }

  /**
   * The one place that forks: up to `minWorkers` always; beyond that, one at a
   * time, only while work waits and no worker has free capacity, so a burst
   * does not fork the whole pool at once.
   */
  private grow(): void {
    const pool = this.pool
    if (pool === undefined || this.closing !== undefined) return
    // Retiring workers are leaving: they do not count toward the minimum.
    while (pool.size - this.retiring.size < this.options.minWorkers) if (pool.spawn() === undefined) return
    if ((this.queue.length === 0 && this.secondRuns.length === 0) || pool.starting > 0 || pool.size >= this.options.maxWorkers) return
    // A second run left waiting means no free worker may take it: another worker can.
    if (!this.credit.hasCredit || this.secondRuns.length > 0) pool.spawn()
  }

  private sendToWorker(worker: WorkerSession, frames: Buffer[]): void {
    worker.lastSent = Date.now()
    this.routerSender.send([worker.identity, ...frames]).catch((error: unknown) => {
      if (this.workers.get(worker.key) !== worker) return
      this.workerLog.warn({ worker: worker.id, err: errorMessage(error) }, 'worker unreachable')
      this.loseWorker(worker, 'unreachable')
    })
  }

  private onWorkerMessage(frames: Buffer[]): void {
    const identity = frames[0]!
    const validated = validateWorkerHeader(frames[1] ?? Buffer.alloc(0))
    if (!validated.ok) return this.onMalformed('workers', validated.reason)
    if (frames.length !== 2) return this.onMalformed('workers', `${validated.header.type} must have no body frame`)
    const key = identity.toString('latin1')
    const header = validated.header
    const worker = this.workers.get(key)
    if (header.type === 'ready') {
      this.onReady(key, identity, header.worker, header.capacity, worker)
      return
    }
    // Not registered: a worker we declared dead, one from before a restart, or one
    // refused. Without our heartbeats a real worker reconnects and says ready.
    if (worker === undefined) return
    worker.lastSeen = Date.now()
    switch (header.type) {
      case 'heartbeat':
        return
      case 'done':
        return this.onDone(worker, header.client, header.id)
      case 'bye':
        // What it still holds it never ran (a stopping worker takes nothing new): no re-run is counted.
        this.logger.debug({ worker: worker.id, holding: worker.holding }, 'worker said bye')
        this.forget(worker)
        this.requeue(worker, 'not-counted')
        this.dispatch()
        return
    }
  }

  private onDone(worker: WorkerSession, client: string, id: string): void {
    const now = Date.now()
    const batch = worker.release(client, id, now)
    if (batch === undefined) return // not its batch, or from before its latest ready
    this.gaveBack(batch)
    this.credit.offer(worker)
    worker.served++
    // The first run to finish completes the batch; a second one still running just frees its worker.
    if (this.inside.get(client, id) === batch) {
      this.inside.take(client, id)
      this.secondRuns.withdraw(batch)
      this.stats.completed++
    }
    this.dispatch()
  }

  private onReady(key: string, identity: Buffer, id: string, declared: number, existing: WorkerSession | undefined): void {
    if (this.closing !== undefined || this.retiring.has(id)) {
      // Started during shutdown, or retired for idleness: it holds nothing, so it can leave at once.
      void this.routerSender.send([identity, STOP_FRAME]).catch(() => undefined)
      return
    }
    const capacity = Math.min(declared, this.options.maxWorkerCapacity)
    const now = Date.now()
    if (existing !== undefined) {
      // `ready` again means a new session: tasks sent on the old connection may never
      // have arrived, so what it held is re-run elsewhere rather than kept forever.
      // That is this worker's doing, not the batches': no run is counted, so a worker
      // that says ready again and again cannot use up other clients' attempts.
      existing.capacity = capacity
      existing.lastSeen = now
      const requeued = this.requeue(existing, 'not-counted', true)
      this.workerLog.warn({ worker: id, requeued }, 'worker said ready again; what it held was requeued')
      this.credit.offer(existing)
    } else {
      const claimed = this.workersById.get(id)
      const refusal = claimed !== undefined ? 'id-in-use' : this.workers.size >= this.options.maxConnectedWorkers ? 'too-many-workers' : undefined
      if (refusal !== undefined) {
        this.stats.workersRefused++
        this.refusedLog.warn({ worker: id, reason: refusal, limit: this.options.maxConnectedWorkers }, 'worker refused; its ready is ignored')
        this.emit('worker:refused', { id, reason: refusal })
        return
      }
      const worker = new WorkerSession(key, identity, id, capacity, now, this.pool?.get(id) !== undefined)
      this.workers.set(key, worker)
      this.workersById.set(id, worker)
      this.pool?.markReady(id)
      this.credit.offer(worker)
      this.workerLog.info({ worker: id, capacity, ...(declared > capacity ? { declared } : {}) }, 'worker ready')
    }
    this.emit('worker:ready', { id, capacity })
    this.dispatch()
  }

  private onWorkerExit(id: string, pid: number, code: number | null, signal: string | null): void {
    this.retiring.delete(id)
    const worker = this.workersById.get(id)
    if (worker?.forked === true) this.loseWorker(worker, 'exited')
    const level = code === 0 ? 'debug' : 'warn'
    this.logger[level]({ worker: id, pid, code, signal }, 'worker process exited')
    this.emit('worker:exit', { id, pid, code, signal })
    this.grow()
  }

  /** Takes a worker out of the registry and the credit ring. */
  private forget(worker: WorkerSession): void {
    worker.live = false
    if (this.workers.get(worker.key) === worker) this.workers.delete(worker.key)
    if (this.workersById.get(worker.id) === worker) this.workersById.delete(worker.id)
  }

  /** Forgets a worker and puts what it held back at the front of the queue with attempt + 1. */
  private loseWorker(worker: WorkerSession, reason: WorkerLossReason): void {
    this.forget(worker)
    this.stats.workersLost++
    if (reason !== 'exited' && worker.forked) this.pool?.kill(worker.id, 'SIGKILL') // a forked worker is ours to reap
    const requeued = this.requeue(worker)
    this.workerLog.warn({ worker: worker.id, reason, requeued }, 'worker lost')
    this.emit('worker:lost', { id: worker.id, reason, requeued })
    this.dispatch()
  }

  /**
   * Puts what a worker held back at the front of the queue with attempt + 1.
   * After a loss each batch may have run: that counts, and a batch is rejected
   * once it has had `maxAttempts` runs, so a poison batch that kills every
   * worker it meets still ends. After a `bye` it never ran, and after a new
   * `ready` the worker, not the batch, is at fault: neither counts. A batch
   * that finished elsewhere, or still runs or waits elsewhere, is let go.
   */
  private requeue(worker: WorkerSession, how: 'counted' | 'not-counted' = 'counted', bumpAttempt = how === 'counted'): number {
    const back: QueuedBatch[] = []
    for (const batch of worker.releaseAll(Date.now())) {
      this.gaveBack(batch)
      if (how === 'not-counted') batch.runs--
      // Finished elsewhere, or still running elsewhere: nothing to do for this copy.
      if (this.inside.get(batch.client, batch.id) !== batch || batch.holders > 0) continue
      const ending = this.endingFor(batch, how)
      if (ending !== undefined) {
        this.secondRuns.withdraw(batch)
        this.inside.take(batch.client, batch.id)
        if (ending === 'aborted') this.stats.aborted++
        else this.reject(batch.replyTo, batch.id, batch.client, ending, ending === 'shutting-down')
        continue
      }
      // Capped: a worker refuses a header whose attempt is beyond the protocol's bound.
      if (bumpAttempt) batch.attempt = Math.min(batch.attempt + 1, Limits.maxCounter)
      // A second run already waiting is now its only run; it stays where it waits.
      if (!batch.secondRun) back.push(batch)
    }
    this.stats.requeued += back.length
    this.queue.requeueFront(back)
    return back.length
  }

  /** A worker no longer runs this copy of `batch` (the inverse of {@link handTo}'s hold). */
  private gaveBack(batch: QueuedBatch): void {
    batch.holders--
    this.queue.hold(-batch.body.length)
  }

  /** Why a batch that no worker runs any more must not run again, if it must not. */
  private endingFor(batch: QueuedBatch, how: 'counted' | 'not-counted'): 'shutting-down' | 'aborted' | 'attempts-exhausted' | undefined {
    if (this.closing !== undefined) return 'shutting-down'
    // Its client has gone; running it again would answer nobody.
    if (this.abortedClients.size > 0 && this.wasAborted(batch.client)) return 'aborted'
    if (how === 'counted' && batch.runs >= this.options.maxAttempts) return 'attempts-exhausted'
    return undefined
  }

  private tick(): void {
    const now = Date.now()
    for (const [id, killAt] of this.retiring) if (now > killAt) this.pool?.kill(id, 'SIGKILL')
    const interval = this.options.heartbeatIntervalMs
    const deadline = interval * this.options.heartbeatLiveness
    const holdTimeoutMs = this.options.holdTimeoutMs
    for (const worker of this.workers.values()) {
      const oldest = worker.oldestSince
      if (now - worker.lastSeen > deadline) {
        this.loseWorker(worker, 'heartbeat')
      } else if (holdTimeoutMs > 0 && oldest !== undefined && now - oldest > holdTimeoutMs) {
        // Alive but sitting on a batch: a hung executor, or a hoarder. Run it elsewhere.
        this.loseWorker(worker, 'hold-timeout')
      } else if (now - worker.lastSent >= interval) {
        this.sendToWorker(worker, [HEARTBEAT_FRAME])
      }
    }
    if (this.queue.length > 0 || this.secondRuns.length > 0) this.dispatch()
    else {
      this.retireIdle(now)
      this.grow()
    }
  }

  /**
   * Shrinks the pool back to `minWorkers`: a forked worker that has held
   * nothing for `idleTimeoutMs` leaves through the poison pill, as at
   * shutdown. It is forgotten first, so nothing more is dispatched to it.
   */
  private retireIdle(now: number): void {
    const pool = this.pool
    const idleMs = this.options.idleTimeoutMs
    if (pool === undefined || idleMs === 0 || this.closing !== undefined) return
    for (const worker of this.workers.values()) {
      if (pool.size - this.retiring.size <= this.options.minWorkers) break
      if (worker.holding > 0 || now - worker.idleSince < idleMs || !worker.forked) continue
      this.forget(worker)
      // Nothing watches it any more: if it has not left within the grace time, it is killed.
      this.retiring.set(worker.id, now + this.options.graceMs)
      this.logger.info({ worker: worker.id, idleMs: now - worker.idleSince }, 'idle worker retired')
      this.emit('worker:retire', { id: worker.id, idleMs: now - worker.idleSince })
      this.sendToWorker(worker, [STOP_FRAME])
    }
  }

  private async shutdown(): Promise<void> {
    this.logger.info({ queued: this.queue.length, workers: this.workers.size }, 'shutting down')
    this.emit('closing')
    // The intake keeps reading until the end, so batches that reach it now, or already
    // sit in ZeroMQ's buffer, are answered `shutting-down` instead of vanishing.
    for (const batch of [...this.queue.drain(), ...this.secondRuns.withdrawWhere(() => true)]) {
      // A batch also running on a worker is answered by that run.
      if (batch.holders > 0) continue
      this.inside.take(batch.client, batch.id)
      this.reject(batch.replyTo, batch.id, batch.client, 'shutting-down', true)
    }
    // Workers forked but not yet connected get the pill when they say ready (see onReady).
    for (const worker of this.workers.values()) this.sendToWorker(worker, [STOP_FRAME])
    await this.waitForWorkers(this.forced ? 0 : this.options.graceMs)
    if (this.pool !== undefined && this.pool.size > 0) {
      this.logger.warn({ pids: this.pool.pids }, 'workers did not leave within the grace time; killing them')
      this.pool.killAll('SIGKILL')
      await Promise.race([this.pool.allExited(), delay(5000)])
    }
    for (const worker of this.workers.values()) this.requeue(worker)
    this.workers.clear()
    this.workersById.clear()
    clearInterval(this.ticker)
    this.closeSockets()
    await this.removeIpcFile()
    // Rejections get a second to leave, unless a second signal asked for an exit now.
    await this.replies.close(this.forced ? 0 : 1000)
    for (const log of [this.malformedLog, this.undeliveredLog, this.workerLog, this.refusedLog, this.abortLog]) log.flush()
    this.logger.info({ stats: this.stats }, 'gateway closed')
    this.emit('closed')
  }

  private closeSockets(): void {
    this.statusSocket?.close()
    this.intake.close()
    this.routerSender.close('closed')
    this.router.close()
  }

  private async removeIpcFile(): Promise<void> {
    const path = ipcPath(this.workersBind)
    if (path !== undefined) await rm(path, { force: true }).catch(() => undefined)
    // Only a status file we bound is ours: one that failed to bind may be another gateway's.
    const statusPath = this.statusBound ? ipcPath(this.options.statusBind ?? '') : undefined
    if (statusPath !== undefined) await rm(statusPath, { force: true }).catch(() => undefined)
  }

  /** Resolves when every forked worker has exited and every remote worker said bye, or after `ms`. */
  private async waitForWorkers(ms: number): Promise<void> {
    const deadline = Date.now() + ms
    while (Date.now() < deadline) {
      const forkedAlive = this.pool?.size ?? 0
      if (forkedAlive === 0 && this.workers.size === 0) return
      await delay(20)
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
