/**
 * A worker: a DEALER that joins a gateway, takes up to `capacity` batches at
 * once, runs their commands concurrently (at most `concurrency`), PUSHes each
 * batch's result straight to the client's `replyTo`, then tells the gateway
 * `done`. On the poison pill it finishes what it holds, delivers it, says
 * `bye` and closes.
 *
 * Commands beyond `concurrency` wait in {@link FairSlots}: when a slot frees,
 * the next command comes from the next client in turn among those it holds
 * commands of, and within that client from its next batch in turn. A client's
 * batch of 16 therefore never waits behind another's 40 000 commands.
 */
import { EventEmitter, setMaxListeners } from 'node:events'
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { Dealer } from 'zeromq'
import { decodeTrusted } from '../protocol/codec.js'
import { errorCode, errorMessage } from '../errors.js'
import {
  HEARTBEAT_FRAME,
  byeFrame,
  doneFrame,
  outcomesBody,
  readyFrame,
  resultFrame,
} from '../protocol/frames.js'
import { scanCommandPairs } from '../protocol/msgpack-scan.js'
import { ResultCode, type CommandOutcome, type CommandPair, type TaskHeader } from '../protocol/types.js'
import { warmUpCodec } from '../protocol/warm-up.js'
import { warmUpTransport } from '../transport/warm-up.js'
import { validateGatewayHeader } from '../protocol/validate.js'
import { ReplySockets } from '../transport/reply-sockets.js'
import { Sender } from '../transport/sender.js'
import { receiveLoop } from '../transport/receive-loop.js'
import { RateLimitedLog, silentLogger, type Logger } from '../log.js'
import { background } from '../util/background.js'
import { FairSlots, type FairBatch } from './fair-slots.js'
import { resolveWorkerOptions, workerDefaults, type ResolvedWorkerOptions, type WorkerOptions } from './options.js'
export { workerDefaults, type WorkerOptions }

/** Events of a {@link Worker}. */
export interface WorkerEvents {
  /** `ready` was sent to the gateway (again after every reconnect). */
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
  batches: number
  commands: number
  resultsDropped: number
  malformed: number
  reconnects: number
}

/** A batch the worker holds; its commands start through {@link FairSlots}, by index. */
class HeldBatch implements FairBatch {
  /** Emptied once the result body is encoded: a result waiting for delivery is its body alone. */
  outcomes: CommandOutcome[]
  remaining: number

  constructor(
    readonly header: TaskHeader,
    /** The decoded `[address, command]` pairs; emptied once the result body is encoded. */
    public pairs: CommandPair[],
    readonly commands: number,
    /** The connection it came on; a `ready` since then made the gateway requeue it. */
    readonly session: number,
    private readonly run: (batch: HeldBatch, index: number) => Promise<void>,
  ) {
    this.outcomes = new Array<CommandOutcome>(commands)
    this.remaining = commands
  }

  startCommand(index: number): Promise<void> {
    return this.run(this, index)
  }
}

const TIMED_OUT = Symbol('timed out')
/** The client key of {@link Worker.warmUp}'s batch: never a client id. */
const WARM_UP = Symbol('warm-up')
/** Results that may wait for delivery after their `done`, per unit of capacity. */
const UNDELIVERED_PER_SLOT = 4

function failure(error: unknown): CommandOutcome {
  if (errorCode(error) === 'ERR_UNKNOWN_COMMAND') return [ResultCode.Unknown, null]
  return [ResultCode.Failed, errorMessage(error)]
}

/**
 * @example
 * const worker = new Worker({ gateway: 'ipc:///tmp/gw.sock', executor: deviceMapExecutor(map) })
 * await worker.start()
 * await worker.closed // resolves after the gateway's poison pill
 */
export class Worker extends EventEmitter<WorkerEvents> {
  readonly id: string
  readonly stats: WorkerStats = { batches: 0, commands: 0, resultsDropped: 0, malformed: 0, reconnects: 0 }
  private readonly options: ResolvedWorkerOptions
  private readonly logger: Logger
  private readonly malformedLog: RateLimitedLog
  private readonly resultsDroppedLog: RateLimitedLog
  /** Lines one per gateway message: tasks refused while stopping, messages not sent. */
  private readonly gatewayLog: RateLimitedLog
  /** Results queued for a client and not yet delivered or given up. */
  private undelivered = 0
  /** Commands running and waiting, by client (its id) and batch: the fair order. */
  private readonly slots: FairSlots<string | symbol>
  private readonly replies: ReplySockets
  private readonly held = new Set<HeldBatch>()
  private readonly abortAll = new AbortController()
  /** Controllers of commands running under a time limit, aborted too on a forced close. */
  private readonly timed = new Set<AbortController>()
  private dealer: Dealer | undefined
  private sender: Sender | undefined
  private heartbeat: NodeJS.Timeout | undefined
  private reconnectTimer: NodeJS.Timeout | undefined
  private reconnectDelayMs: number
  /** Connections made so far; each `ready` opens a new session at the gateway. */
  private session = 0
  private lastReceived = 0
  private lastSent = 0
  private stopping: Promise<void> | undefined
  private closedEmitted = false
  /** Set once results can no longer be delivered. */
  private repliesClosed = false
  private idleWaiters: (() => void)[] = []
  private resolveClosed!: () => void
  /** Resolves when the worker has closed, whoever asked it to. */
  readonly closed: Promise<void> = new Promise((resolve) => (this.resolveClosed = resolve))

  constructor(options: WorkerOptions) {
    super()
    this.options = resolveWorkerOptions(options)
    this.id = options.id ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
    this.logger = (options.logger ?? silentLogger()).child({ worker: this.id })
    this.malformedLog = new RateLimitedLog(this.logger)
    this.resultsDroppedLog = new RateLimitedLog(this.logger)
    this.gatewayLog = new RateLimitedLog(this.logger)
    this.slots = new FairSlots(this.options.concurrency)
    this.replies = new ReplySockets(options.reply)
    this.reconnectDelayMs = this.options.heartbeatIntervalMs
    // Executors may listen on this one signal from thousands of commands at once.
    setMaxListeners(0, this.abortAll.signal)
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
    await new Promise<void>((resolve) => {
      let left = 256
      this.slots.enqueue(WARM_UP, { startCommand: () => Promise.resolve(--left === 0 ? resolve() : undefined) }, 256)
    })
  }

  /** Connects to the gateway and announces this worker's capacity. */
  start(): void {
    if (this.dealer !== undefined || this.stopping !== undefined) return
    warmUpCodec()
    this.connect()
    const interval = this.options.heartbeatIntervalMs
    this.heartbeat = setInterval(() => this.tick(), Math.max(10, Math.floor(interval / 2)))
  }

  /**
   * Takes nothing new, finishes and delivers what it holds, says `bye`, and
   * closes. Idempotent: later calls return the same promise.
   */
  stop(): Promise<void> {
    this.stopping ??= this.finishAndLeave()
    return this.stopping
  }

  /**
   * Closes the worker. With `force`, running commands are aborted and
   * undelivered results are dropped; otherwise this is {@link stop}.
   */
  async close(options: { force?: boolean } = {}): Promise<void> {
    if (options.force !== true) return this.stop()
    this.repliesClosed = true
    this.abortAll.abort()
    for (const controller of this.timed) controller.abort()
    this.shutdownSockets(0)
    this.finishClose()
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  private connect(): void {
    const dealer = new Dealer({
      // No routing id of our own: the gateway's ROUTER assigns one per connection, so no
      // other process can claim ours and take over our tasks.
      linger: 1000,
      maxMessageSize: this.options.maxMessageBytes,
    })
    dealer.connect(this.options.gateway)
    this.dealer = dealer
    this.session++
    this.sender = new Sender(dealer, this.options.gateway, { retries: 3, retryDelayMs: 1000 })
    this.lastReceived = Date.now()
    const loop = receiveLoop(
      dealer,
      (frames) => {
        this.lastReceived = Date.now()
        this.reconnectDelayMs = this.options.heartbeatIntervalMs
        this.onMessage(frames)
      },
      { logger: this.logger, what: 'gateway connection' },
    )
    background(loop, this.logger, 'gateway connection loop')
    this.sendToGateway(readyFrame(this.id, this.options.capacity))
    this.emit('ready')
  }

  private reconnect(): void {
    this.stats.reconnects++
    this.logger.warn({ gateway: this.options.gateway, retryInMs: this.reconnectDelayMs }, 'gateway silent; reconnecting')
    this.emit('gateway:lost')
    this.sender?.close('reconnecting')
    if (this.dealer !== undefined && !this.dealer.closed) {
      this.dealer.linger = 0
      this.dealer.close()
    }
    this.dealer = undefined
    this.sender = undefined
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      if (this.stopping === undefined) this.connect()
    }, this.reconnectDelayMs)
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, this.options.reconnectMaxMs)
  }

  private tick(): void {
    if (this.dealer === undefined) return
    const now = Date.now()
    const interval = this.options.heartbeatIntervalMs
    if (now - this.lastReceived > interval * this.options.heartbeatLiveness && this.stopping === undefined) {
      this.reconnect()
    } else if (now - this.lastSent >= interval) {
      this.sendToGateway(HEARTBEAT_FRAME)
    }
  }

  private sendToGateway(frame: Buffer): Promise<void> {
    const sender = this.sender
    if (sender === undefined) return Promise.resolve()
    this.lastSent = Date.now()
    return sender.send([frame]).catch((error: unknown) => {
      this.gatewayLog.warn({ err: errorMessage(error) }, 'message to gateway not sent')
    })
  }

  private onMessage(frames: Buffer[]): void {
    const validated = validateGatewayHeader(frames[0] ?? Buffer.alloc(0))
    if (!validated.ok) {
      this.stats.malformed++
      this.malformedLog.warn({ reason: validated.reason }, 'malformed message from gateway')
      return
    }
    const header = validated.header
    switch (header.type) {
      case 'heartbeat':
        return
      case 'cancel':
        // Not implemented yet: as the contract allows, the client's commands run to the end.
        return
      case 'stop':
        background(this.stop(), this.logger, 'stop')
        return
      case 'task':
        this.startBatch(header, frames[1])
        return
    }
  }

  private startBatch(header: TaskHeader, body: Buffer | undefined): void {
    if (this.stopping !== undefined || this.repliesClosed) {
      // Stopping means taking nothing new. Left unacknowledged, it goes back to the
      // gateway's queue when our bye arrives.
      this.gatewayLog.warn({ id: header.id, client: header.client }, 'task arrived after stopping; left for the gateway to requeue')
      return
    }
    const count = body === undefined ? 'no body frame' : scanCommandPairs(body, this.options.maxBatch)
    if (typeof count === 'string') {
      this.stats.malformed++
      this.malformedLog.warn({ id: header.id, client: header.client, reason: count }, 'malformed task body')
      void this.sendToGateway(doneFrame(header.id, header.client))
      return
    }
    this.replies.prepare(header.replyTo)
    const pairs = decodeTrusted(body!) as CommandPair[]
    const batch = new HeldBatch(header, pairs, count, this.session, this.runInto)
    this.held.add(batch)
    this.stats.batches++
    this.stats.commands += count
    // One entry for the whole batch, keyed by its client: no closure per command.
    this.slots.enqueue(header.client, batch, count)
  }

  /**
   * Runs command `i` of `batch` when {@link FairSlots} gives it a slot, and
   * records its outcome. Plain promise chaining, not async wrappers: with
   * 100 000 commands waiting at once, every promise per command is promoted
   * and collected later (GC was ~45% of a worker's CPU).
   */
  private readonly runInto = (batch: HeldBatch, i: number): Promise<void> => {
    if (this.abortAll.signal.aborted) {
      // Closed by force while this command waited for a slot: it never starts.
      this.settle(batch, i, failure(this.abortAll.signal.reason))
      return Promise.resolve()
    }
    const [address, command] = batch.pairs[i]!
    if (this.options.commandTimeoutMs !== 0) {
      return this.runWithTimeLimit(address, command).then((outcome) => this.settle(batch, i, outcome))
    }
    let running: Promise<unknown>
    try {
      // Promise.resolve: an executor written in plain JS may return a value, not a promise.
      running = Promise.resolve(this.options.executor(address, command, this.abortAll.signal))
    } catch (error) {
      this.settle(batch, i, failure(error))
      return Promise.resolve()
    }
    return running.then(
      (value) => this.settle(batch, i, [ResultCode.Ok, value]),
      (error: unknown) => this.settle(batch, i, failure(error)),
    )
  }

  private settle(batch: HeldBatch, i: number, outcome: CommandOutcome): void {
    batch.outcomes[i] = outcome
    // A throwing 'batch:done' listener must not become an unhandled rejection.
    if (--batch.remaining === 0) background(this.finishBatch(batch), this.logger, `batch ${batch.header.id}`)
  }

  private async runWithTimeLimit(address: string, command: string): Promise<CommandOutcome> {
    const timeoutMs = this.options.commandTimeoutMs
    // A controller per command (not AbortSignal.any over the shared one: each `any`
    // adds a listener to the shared signal, and adding listeners to one signal is O(n)).
    const controller = new AbortController()
    this.timed.add(controller)
    let timer: NodeJS.Timeout | undefined
    try {
      // The command first, then its time limit: a command whose wait equals the limit
      // then always finishes (timers of equal length fire in the order they were set).
      const running = Promise.resolve(this.options.executor(address, command, controller.signal))
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // Settle the race first: aborting makes the executor reject at once, which
          // would otherwise win and report the timeout as a failure (code 2).
          reject(TIMED_OUT)
          controller.abort(new Error(`command timed out after ${timeoutMs} ms`))
        }, timeoutMs)
      })
      return [ResultCode.Ok, await Promise.race([running, timedOut])]
    } catch (error) {
      return error === TIMED_OUT ? [ResultCode.Timeout, null] : failure(error)
    } finally {
      clearTimeout(timer)
      this.timed.delete(controller)
    }
  }

  private async finishBatch(batch: HeldBatch): Promise<void> {
    const { id, client, replyTo, attempt } = batch.header
    let body: Buffer
    try {
      body = outcomesBody(batch.outcomes)
    } catch (error) {
      // An executor returned something MessagePack cannot carry: report it as a failure, not a lost batch.
      const message = `response not encodable: ${errorMessage(error)}`
      body = outcomesBody(batch.outcomes.map((o) => (o[0] === ResultCode.Ok ? [ResultCode.Failed, message] : o)))
    }
    batch.outcomes = []
    batch.pairs = []
    const delivery = this.replies.send(replyTo, [resultFrame(id, client, this.id, attempt), body])
    // After a new `ready` the gateway has requeued this batch and may have handed it to
    // us again: a `done` for it would settle that new run before it finishes.
    const current = batch.session === this.session
    // `done` once the result is queued, not delivered: a vanished client's result takes
    // its 4 send attempts (4 s) to be given up, and 30 vanished clients a second would
    // otherwise hold every slot and stall everyone else (npm run chaos, C5: ~120 at
    // once). Up to 4 × `capacity` results wait like that, each its encoded body alone,
    // so what a worker holds stays bounded; beyond it `done` waits for the delivery.
    const early = current && this.undelivered < UNDELIVERED_PER_SLOT * this.options.capacity
    if (early) void this.sendToGateway(doneFrame(id, client))
    this.undelivered++
    let delivered = true
    try {
      await delivery
    } catch (error) {
      delivered = false
      this.stats.resultsDropped++
      this.resultsDroppedLog.warn({ id, client, replyTo, err: errorMessage(error) }, 'result dropped: the client did not accept it')
    } finally {
      this.undelivered--
    }
    if (current && !early) await this.sendToGateway(doneFrame(id, client))
    // Held until delivered or given up, so that stopping still delivers what it finished.
    this.held.delete(batch)
    this.emit('batch:done', { id, client, commands: batch.commands, delivered })
    if (this.held.size === 0) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const resolve of waiters) resolve()
    }
  }

  private async finishAndLeave(): Promise<void> {
    this.emit('closing')
    this.logger.info({ holding: this.held.size }, 'stopping: finishing held batches')
    if (this.held.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    this.repliesClosed = true
    await this.replies.close()
    if (this.sender !== undefined) await this.sendToGateway(byeFrame(this.id))
    this.shutdownSockets(1000)
    this.finishClose()
  }

  private shutdownSockets(lingerMs: number): void {
    clearInterval(this.heartbeat)
    clearTimeout(this.reconnectTimer)
    this.sender?.close('closed')
    if (this.dealer !== undefined && !this.dealer.closed) {
      this.dealer.linger = lingerMs
      this.dealer.close()
    }
    if (lingerMs === 0) background(this.replies.close(0), this.logger, 'closing reply sockets')
  }

  private finishClose(): void {
    if (this.closedEmitted) return
    this.closedEmitted = true
    this.malformedLog.flush()
    this.resultsDroppedLog.flush()
    this.gatewayLog.flush()
    this.logger.info(this.stats, 'worker closed')
    this.emit('closed')
    this.resolveClosed()
  }
}
