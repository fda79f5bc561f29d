/**
 * The gateway's state machine, without a socket or a timer: it is fed decoded
 * events (a task or an abort from the intake, a worker's message, a worker
 * process that forked or exited, a tick, shutdown) and answers through an
 * effects port (send to a worker, reject to a client, raise an event) and the
 * worker pool. It reads time only from the clock it is given, so every rule
 * runs on fake time in a unit test with a recording effects object.
 */
import { scanCommandPairs } from '../protocol/msgpack-scan.js'
import type { DoneHeader, RejectReason, TaskHeader, WorkerToGatewayHeader } from '../protocol/types.js'
import { createReplyPolicy, type ReplyPolicy } from '../security/reply-policy.js'
import type { Clock } from '../util/clock.js'
import { AbortRegistry } from './abort-registry.js'
import { accountDone } from './done-accounting.js'
import { Autoscaler } from './autoscaler.js'
import { copyStats, zeroStats, type GatewayObserver, type GatewayStats, type WorkerLossReason } from './events.js'
import { Ledger, type GiveBackCause } from './ledger.js'
import type { ResolvedGatewayOptions } from './options.js'
import type { GatewayEffects, GatewayLogs, IntakeMessage, PoolPort, ReplyTarget, ToWorker } from './ports.js'
import type { GatewayStatus } from './status.js'
import { WorkerRegistry } from './worker-registry.js'
import type { WorkerSession } from './worker-session.js'

export type { GatewayEffects, GatewayLogs, IntakeMessage, PoolPort, Rejection, ToWorker } from './ports.js'

/** What the core reads of the gateway's options. */
export type GatewayCoreOptions = Pick<
  ResolvedGatewayOptions,
  'maxBatch' | 'maxAttempts' | 'queueLimit' | 'queueBytes' | 'minWorkers' | 'maxWorkers' | 'idleTimeoutMs'
  | 'graceMs' | 'heartbeatIntervalMs' | 'heartbeatLiveness' | 'holdTimeoutMs' | 'maxConnectedWorkers' | 'maxWorkerCapacity' | 'replyAllow'
>

export class GatewayCore {
  readonly stats: GatewayStats = zeroStats()
  private readonly aborts: AbortRegistry
  private readonly ledger: Ledger
  private readonly registry: WorkerRegistry
  private readonly scaler: Autoscaler
  /** `undefined`: every replyTo is allowed. */
  private readonly replyPolicy: ReplyPolicy | undefined
  /** `undefined`: nobody keeps histograms, so nothing is timed. */
  private readonly observe: GatewayObserver | undefined
  private pool: PoolPort | undefined
  private closing = false

  constructor(
    private readonly options: GatewayCoreOptions,
    private readonly effects: GatewayEffects,
    private readonly logs: GatewayLogs,
    private readonly clock: Clock,
  ) {
    this.aborts = new AbortRegistry(clock)
    this.ledger = new Ledger(options, (client) => this.aborts.has(client))
    this.registry = new WorkerRegistry(options)
    this.scaler = new Autoscaler(options)
    this.replyPolicy = options.replyAllow === undefined ? undefined : createReplyPolicy(options.replyAllow)
    this.observe = effects.observe
  }

  /** Batches waiting for a worker. */
  get queued(): number {
    return this.ledger.queued
  }

  get connectedWorkers(): number {
    return this.registry.size
  }

  /** The intake must stop reading until {@link whenNotFull} resolves: ZeroMQ then pushes back on clients. */
  get isFull(): boolean {
    return this.ledger.isFull
  }

  whenNotFull(): Promise<void> {
    return this.ledger.whenNotFull()
  }

  /** Shutdown is over when every forked worker has exited and every remote one said bye. */
  get drained(): boolean {
    return (this.pool?.size ?? 0) === 0 && this.registry.size === 0
  }

  /** From now on the core forks through `pool` (the gateway makes it once the worker port is bound). */
  attachPool(pool: PoolPort): void {
    this.pool = pool
  }

  /** Serving begins: fork the first worker(s). */
  start(): void {
    this.grow()
  }

  /** The queue, workers, pool and counters of the status view. */
  snapshot(): Pick<GatewayStatus, 'queue' | 'workers' | 'pool' | 'counters'> {
    const now = this.clock()
    const ledger = this.ledger
    const pool = this.pool
    return {
      queue: { batches: ledger.queued, bytes: ledger.queuedBytes, heldBytes: ledger.heldBytes, clients: ledger.deepest(50), clientCount: ledger.clients },
      workers: [...this.registry.sessions()].map((w) => w.status(now, w.forked ? pool?.get(w.id)?.pid : undefined)),
      pool: { forked: pool?.size ?? 0, starting: pool?.starting ?? 0, retiring: this.scaler.retiringCount, min: this.options.minWorkers, max: this.options.maxWorkers },
      counters: copyStats(this.stats),
    }
  }

  /** One message read by the intake. */
  intake(message: IntakeMessage): void {
    this.stats.received++
    if (message.type === 'task') return this.onTask(message.header, message.body)
    if (message.type === 'abort') return this.onAbort(message.client)
    this.malformed('intake', message.reason)
    const answer = message.answer
    if (answer !== undefined) this.reject(answer, 'malformed', false)
  }

  /** A message on the worker port that failed validation; it is counted and dropped. */
  malformed(source: 'intake' | 'workers', reason: string): void {
    this.stats.malformed++
    this.stats.malformedFrom[source]++
    this.logs.malformed.warn({ source, reason }, 'malformed message')
    this.effects.emit('malformed', { source, reason })
  }

  /** A valid message from the connection `key` of the worker port. */
  workerMessage(key: string, identity: Buffer, header: WorkerToGatewayHeader): void {
    const worker = this.registry.get(key)
    if (header.type === 'ready') return this.onReady(key, identity, header.worker, header.capacity)
    // Not registered: a worker we declared dead, one from before a restart, or one
    // refused. Without our heartbeats a real worker reconnects and says ready.
    if (worker === undefined) return
    this.registry.heard(worker, this.clock())
    if (header.type === 'done') return this.onDone(worker, header)
    if (header.type === 'bye') {
      // What it still holds it never ran (a stopping worker takes nothing new): no re-run is counted.
      this.logs.logger.debug({ worker: worker.id, holding: worker.holding }, 'worker said bye')
      this.registry.forget(worker)
      this.giveBack(worker, 'bye')
      this.dispatch()
    }
  }

  /** A send to `worker` failed: it is stuck or gone. */
  workerUnreachable(worker: WorkerSession, error: string): void {
    if (!this.registry.isCurrent(worker)) return
    this.logs.worker.warn({ worker: worker.id, err: error }, 'worker unreachable')
    this.lose(worker, 'unreachable')
  }

  /** The pool forked a worker. */
  workerSpawned(worker: { id: string; pid: number }): void {
    this.stats.workersSpawned++
    this.logs.logger.debug(worker, 'worker forked')
    this.effects.emit('worker:spawn', worker)
  }

  /** A forked worker's process exited. */
  workerExited(exit: { id: string; pid: number; code: number | null; signal: string | null }): void {
    this.scaler.exited(exit.id)
    const worker = this.registry.byWorkerId(exit.id)
    if (worker?.forked === true) this.lose(worker, 'exited')
    const level = exit.code === 0 ? 'debug' : 'warn'
    this.logs.logger[level]({ worker: exit.id, pid: exit.pid, code: exit.code, signal: exit.signal }, 'worker process exited')
    this.effects.emit('worker:exit', exit)
    this.grow()
  }

  /** Called every half heartbeat interval: liveness, hold timeouts, heartbeats, retirement, growth. */
  tick(): void {
    const now = this.clock()
    for (const id of this.scaler.overdue(now)) this.pool?.kill(id, 'SIGKILL')
    for (const worker of this.registry.sessions()) {
      const checkup = this.registry.check(worker, now)
      if (checkup === 'lost:heartbeat') this.lose(worker, 'heartbeat')
      // Alive but sitting on a batch: a hung executor, or a hoarder. Run it elsewhere.
      else if (checkup === 'lost:hold-timeout') this.lose(worker, 'hold-timeout')
      else if (checkup === 'heartbeat-due') this.send(worker, { type: 'heartbeat' })
    }
    if (this.ledger.waiting) this.dispatch()
    else {
      this.retireIdle(now)
      this.grow()
    }
  }

  /**
   * Shutdown begins: queued batches are rejected `shutting-down`, and every
   * worker gets the poison pill. The intake keeps reading until the end, so
   * batches that reach it now are answered `shutting-down` instead of vanishing.
   */
  beginClose(): void {
    this.logs.logger.info({ queued: this.ledger.queued, workers: this.registry.size }, 'shutting down')
    this.closing = true
    this.effects.emit('closing')
    for (const batch of this.ledger.close()) this.reject(batch, 'shutting-down', true)
    // Workers forked but not yet connected get the pill when they say ready (see onReady).
    for (const worker of this.registry.sessions()) this.send(worker, { type: 'stop' })
  }

  /** Shutdown ends: what workers still hold is answered `shutting-down`. */
  finishClose(): void {
    for (const worker of this.registry.sessions()) this.giveBack(worker, 'lost')
    this.registry.clear()
  }

  private onTask(header: TaskHeader, body: Buffer): void {
    const { id, client } = header
    this.stats.batchesReceived++
    // First of all: a worker given this batch would connect to its replyTo.
    if (!this.replyAllowed(header)) return
    if (this.closing) return this.reject(header, 'shutting-down', true)
    const counted = scanCommandPairs(body, this.options.maxBatch)
    if (counted === 'too-large') return this.reject(header, 'too-large', false)
    if (typeof counted === 'string') {
      this.malformed('intake', `task ${id}: ${counted}`)
      return this.reject(header, 'malformed', false)
    }
    if (this.aborts.has(client)) {
      // Sent before the client's abort reached us (another connection, or a resend on its way).
      this.stats.aborted++
      return
    }
    const admission = this.ledger.admit(header, body, counted, this.clock())
    if (admission === 'duplicate') {
      this.stats.duplicates++
      return
    }
    if (admission === 'speculative') this.stats.speculative++
    else this.stats.commandsReceived += counted
    this.dispatch()
  }

  /**
   * Drops the client's batches that no worker runs, and sends `cancel` once
   * to each worker that holds one of its batches: their commands come back
   * code 4 (a worker that ignores `cancel` runs them to the end).
   */
  private onAbort(client: string): void {
    this.stats.aborts++
    this.aborts.remember(client)
    const dropped = this.ledger.dropClient(client)
    this.stats.aborted += dropped
    let cancelsSent = 0
    // One scan of the workers per abort, which is rare; nothing is kept per client for it.
    for (const worker of this.registry.sessions()) {
      if (!worker.held.holdsClient(client)) continue
      this.send(worker, { type: 'cancel', client })
      cancelsSent++
    }
    this.stats.cancelsSent += cancelsSent
    this.logs.abort.info({ client, dropped, cancelsSent }, 'client aborted; queued batches dropped, running ones cancelled')
    this.effects.emit('abort', { client, dropped })
  }

  private onReady(key: string, identity: Buffer, id: string, declared: number): void {
    if (this.closing || this.scaler.isRetiring(id)) {
      // Started during shutdown, or retired for idleness: it holds nothing, so it can leave at once.
      this.effects.stopPeer(identity)
      return
    }
    const now = this.clock()
    const outcome = this.registry.ready(key, identity, id, declared, this.pool?.get(id) !== undefined, now)
    if (outcome.kind === 'refused') {
      this.stats.workersRefused++
      const limit = this.options.maxConnectedWorkers
      this.logs.refused.warn({ worker: id, reason: outcome.reason, limit }, 'worker refused; its ready is ignored')
      this.effects.emit('worker:refused', { id, reason: outcome.reason })
      return
    }
    const { worker, capacity } = outcome
    if (outcome.kind === 'again') {
      // `ready` again means a new session: tasks sent on the old connection may never
      // have arrived, so what it held is re-run elsewhere rather than kept forever.
      // That is this worker's doing, not the batches': no run is counted, so a worker
      // that says ready again and again cannot use up other clients' attempts.
      const requeued = this.giveBack(worker, 'new-session')
      this.logs.worker.warn({ worker: id, requeued }, 'worker said ready again; what it held was requeued')
      this.registry.offer(worker)
    } else {
      this.pool?.markReady(id)
      this.logs.worker.info({ worker: id, capacity, ...(declared > capacity ? { declared } : {}) }, 'worker ready')
    }
    this.effects.emit('worker:ready', { id, capacity })
    this.dispatch()
  }

  private onDone(worker: WorkerSession, done: DoneHeader): void {
    const { client, id } = done
    const now = this.clock()
    const batch = worker.held.get(client, id)
    const handedAt = batch === undefined ? undefined : worker.held.handedAt(batch)
    const outcome = this.ledger.done(worker, client, id, now)
    if (outcome === undefined) return // not its batch, or from before its latest ready
    this.registry.offer(worker)
    worker.served++
    // The first run to finish completes the batch; a second one still running just frees its worker.
    if (outcome === 'completed') {
      this.stats.completed++
      const ms = accountDone(this.stats, { worker: worker.id, batch: batch!, done, seenMs: now - handedAt! }, this.logs.malformed)
      this.observe?.batchDuration(ms)
    }
    this.dispatch()
  }

  /** Forgets a worker and puts what it held back at the front of the queue with attempt + 1. */
  private lose(worker: WorkerSession, reason: WorkerLossReason): void {
    this.registry.forget(worker)
    this.stats.workersLost++
    if (reason !== 'exited' && worker.forked) this.pool?.kill(worker.id, 'SIGKILL') // a forked worker is ours to reap
    const requeued = this.giveBack(worker, 'lost')
    this.logs.worker.warn({ worker: worker.id, reason, requeued }, 'worker lost')
    this.effects.emit('worker:lost', { id: worker.id, reason, requeued })
    this.dispatch()
  }

  /** Takes back what `worker` holds; answers what ends; returns how many were requeued. */
  private giveBack(worker: WorkerSession, cause: GiveBackCause): number {
    const { requeued, ended } = this.ledger.giveBack(worker, cause, this.clock())
    for (const { batch, reason } of ended) {
      if (reason === 'aborted') this.stats.aborted++
      else this.reject(batch, reason, reason === 'shutting-down')
    }
    this.stats.requeued += requeued
    return requeued
  }

  /** Hands waiting batches to workers with free credit; then grows the pool if work still waits. */
  private dispatch(): void {
    const now = this.clock()
    const handed = this.ledger.dispatch(this.registry, now)
    const observe = this.observe
    for (const [worker, batch] of handed) {
      this.stats.dispatched++
      observe?.queueWait(now - batch.waitingSince)
      this.send(worker, { type: 'task', batch })
    }
    if (this.ledger.waiting) this.grow()
  }

  /** The one place that forks (see {@link Autoscaler.toFork}). */
  private grow(): void {
    const pool = this.pool
    if (pool === undefined || this.closing) return
    const demand = { waiting: this.ledger.waiting, secondRunsWaiting: this.ledger.secondRunsWaiting, hasCredit: this.registry.hasCredit }
    const count = this.scaler.toFork({ forked: pool.size, starting: pool.starting }, demand)
    for (let i = 0; i < count; i++) if (pool.spawn() === undefined) return
  }

  /**
   * Shrinks the pool back to `minWorkers` through the poison pill, as at
   * shutdown. A retired worker is forgotten first, so nothing more is
   * dispatched to it; if it has not left within `graceMs` it is killed.
   */
  private retireIdle(now: number): void {
    const pool = this.pool
    if (pool === undefined || this.closing) return
    for (const retired of this.scaler.retire(now, { forked: pool.size, starting: pool.starting }, this.registry.sessions())) {
      const { worker } = retired
      // Whole milliseconds, as operators and status readers had them before the monotonic clock.
      const idleMs = Math.round(retired.idleMs)
      this.registry.forget(worker)
      this.logs.logger.info({ worker: worker.id, idleMs }, 'idle worker retired')
      this.effects.emit('worker:retire', { id: worker.id, idleMs })
      this.send(worker, { type: 'stop' })
    }
  }

  private send(worker: WorkerSession, message: ToWorker): void {
    this.registry.sent(worker, this.clock())
    this.effects.toWorker(worker, message)
  }

  private reject(target: ReplyTarget, reason: RejectReason, retryable: boolean): void {
    if (!this.replyAllowed(target)) return
    const { replyTo, id, client, replyKey } = target
    this.stats.rejected[reason]++
    this.effects.emit('batch:rejected', { id, client, reason })
    this.effects.reject(replyKey === undefined ? { replyTo, id, client, reason, retryable } : { replyTo, id, client, replyKey, reason, retryable })
  }

  /**
   * Whether `target`'s replyTo is inside the policy. One outside is counted as
   * `not-allowed` and logged, and nothing is ever sent there: answering it
   * would be the very connection the policy forbids.
   */
  private replyAllowed(target: ReplyTarget): boolean {
    if (this.replyPolicy === undefined || this.replyPolicy.allows(target.replyTo)) return true
    const { id, client, replyTo } = target
    this.stats.rejected['not-allowed']++
    this.logs.refused.warn({ id, client, replyTo }, 'replyTo outside --reply-allow: batch dropped, never connected to nor answered')
    this.effects.emit('batch:rejected', { id, client, reason: 'not-allowed' })
    return false
  }
}
