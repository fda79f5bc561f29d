/**
 * A worker's link to its gateway: one DEALER at a time, `ready` on every new
 * connection, heartbeats, and a reconnect when the gateway falls silent, as
 * {@link SessionPolicy} decides. Messages from the gateway are validated here
 * and handed on by type; a malformed one is counted and logged, never fatal.
 */
import { Dealer } from 'zeromq'
import { errorMessage } from '../errors.js'
import { HEARTBEAT_FRAME, byeFrame, doneFrame, readyFrame, type DoneReport } from '../protocol/frames.js'
import type { TaskHeader } from '../protocol/types.js'
import { validateGatewayHeader } from '../protocol/validate.js'
import { curveClientOptions, type CurveIdentity } from '../security/curve.js'
import { Sender } from '../transport/sender.js'
import { receiveLoop } from '../transport/receive-loop.js'
import { RateLimitedLog, type Logger } from '../log.js'
import { background } from '../util/background.js'
import { monotonicClock, type Clock } from '../util/clock.js'
import { SessionPolicy } from './session-policy.js'

/** What the session hands on from the gateway. Handlers must not throw. */
export interface SessionHandlers {
  /** A task of session `session`; its body is unchecked bytes. */
  task(header: TaskHeader, body: Buffer | undefined, session: number): void
  /** The gateway's `cancel` for that client's commands. */
  cancel(client: string): void
  /** The poison pill. */
  stop(): void
  /** `ready` was handed to ZeroMQ on a new connection. */
  ready(): void
  /** The gateway fell silent; a reconnect follows after a pause. */
  lost(): void
}

/** Counters the session adds to (the worker's stats). */
export interface SessionCounters {
  malformed: number
  reconnects: number
}

export interface GatewaySessionOptions {
  readonly gateway: string
  readonly workerId: string
  readonly capacity: number
  readonly heartbeatIntervalMs: number
  readonly heartbeatLiveness: number
  readonly reconnectMaxMs: number
  readonly maxMessageBytes: number
  readonly logger: Logger
  readonly counters: SessionCounters
  /** Connect over CURVE: this worker's key pair and the gateway's public key. */
  readonly curve?: { readonly identity: CurveIdentity; readonly serverKey: string }
  /** @default monotonicClock */
  readonly clock?: Clock
}

export class GatewaySession {
  private readonly policy: SessionPolicy
  private readonly clock: Clock
  private readonly malformedLog: RateLimitedLog
  /** One line per failed send at most ten a second: a gone gateway must not flood the log. */
  private readonly sendLog: RateLimitedLog
  private readonly refusedLog: RateLimitedLog
  private dealer: Dealer | undefined
  private sender: Sender | undefined
  private heartbeat: NodeJS.Timeout | undefined
  private reconnectTimer: NodeJS.Timeout | undefined
  private shut = false
  /**
   * The gateway has spoken on the current connection (it heartbeats within an
   * interval of a `ready`): only then can queued messages still be delivered,
   * so only then is closing with linger worth the wait. Heard, not a socket
   * monitor's `handshake` event: a monitor per connection slowed reconnects.
   */
  private linked = false

  constructor(
    private readonly options: GatewaySessionOptions,
    private readonly handlers: SessionHandlers,
  ) {
    this.policy = new SessionPolicy(options.heartbeatIntervalMs, options.heartbeatLiveness, options.reconnectMaxMs)
    this.clock = options.clock ?? monotonicClock
    this.malformedLog = new RateLimitedLog(options.logger)
    this.sendLog = new RateLimitedLog(options.logger)
    // One line a second: libzmq retries a refused handshake every reconnect interval.
    this.refusedLog = new RateLimitedLog(options.logger, 1)
  }

  /** The current session's number: 1 for the first connection, +1 per reconnect. */
  get session(): number {
    return this.policy.session
  }

  get started(): boolean {
    return this.heartbeat !== undefined || this.shut
  }

  /** Connects and says `ready`; from then on heartbeats and reconnects by itself. */
  start(): void {
    if (this.started) return
    this.connect()
    this.heartbeat = setInterval(() => this.tick(), Math.max(10, Math.floor(this.options.heartbeatIntervalMs / 2)))
  }

  /** Sends `done` for a task of `session`, with `report` when given, unless a `ready` came since: the gateway requeued it. */
  done(id: string, client: string, session: number, report?: DoneReport): Promise<void> {
    if (!this.policy.isCurrent(session)) return Promise.resolve()
    return this.send(doneFrame(id, client, report)).then(() => undefined)
  }

  /** Stopping began: the gateway's silence no longer makes it reconnect. */
  leave(): void {
    this.policy.leave()
  }

  /** Says `bye` on the current connection, if there is one. */
  async bye(): Promise<void> {
    if (this.sender !== undefined) await this.send(byeFrame(this.options.workerId))
  }

  /**
   * Stops the timers and closes the connection, letting queued messages out
   * for `lingerMs`; at once when the gateway was never reached (or the link
   * dropped), since nothing queued could go anywhere. A socket left lingering
   * then holds the exit and makes zeromq.js print "Waiting for queued ZeroMQ
   * messages to be delivered".
   */
  close(lingerMs: number): void {
    this.shut = true
    clearInterval(this.heartbeat)
    clearTimeout(this.reconnectTimer)
    this.disconnect('closed', this.linked ? lingerMs : 0)
    this.malformedLog.flush()
    this.sendLog.flush()
    this.refusedLog.flush()
  }

  private connect(): void {
    const dealer = new Dealer({
      // No routing id of our own: the gateway's ROUTER assigns one per connection, so no
      // other process can claim ours and take over our tasks.
      linger: 1000,
      maxMessageSize: this.options.maxMessageBytes,
      ...(this.options.curve === undefined ? {} : curveClientOptions(this.options.curve.identity, this.options.curve.serverKey)),
    })
    if (this.options.curve !== undefined) this.watchRefusals(dealer, this.options.curve.identity.publicKey)
    this.linked = false
    dealer.connect(this.options.gateway)
    this.dealer = dealer
    this.sender = new Sender(dealer, this.options.gateway, { retries: 3, retryDelayMs: 1000 })
    this.policy.startSession(this.clock())
    const loop = receiveLoop(
      dealer,
      (frames) => {
        this.linked = true
        this.policy.heard(this.clock())
        this.onMessage(frames)
      },
      { logger: this.options.logger, what: 'gateway connection' },
    )
    background(loop, this.options.logger, 'gateway connection loop')
    // `ready` fires once the frame is with ZeroMQ, never inside start(): a listener
    // added right after start() returns still hears it.
    // A throwing `ready` listener is logged, not left an unhandled rejection.
    const announced = this.send(readyFrame(this.options.workerId, this.options.capacity)).then((sent) => {
      if (sent && this.dealer === dealer) this.handlers.ready()
    })
    background(announced, this.options.logger, 'ready event')
  }

  /** A gateway that refuses our key says nothing else: say it in the log, at a bounded rate (libzmq retries on its own). */
  private watchRefusals(dealer: Dealer, publicKey: string): void {
    dealer.events.on('handshake:error:auth', (event) =>
      this.refusedLog.warn(
        { gateway: this.options.gateway, publicKey, status: event.error.status },
        "the gateway refused this worker's key: is its NAME.key in the gateway's --workers-allow?",
      ),
    )
  }

  private disconnect(reason: string, lingerMs: number): void {
    this.sender?.close(reason)
    if (this.dealer !== undefined && !this.dealer.closed) {
      this.dealer.linger = lingerMs
      this.dealer.close()
    }
    this.dealer = undefined
    this.sender = undefined
  }

  private tick(): void {
    const action = this.policy.tick(this.clock())
    if (action === 'heartbeat') void this.send(HEARTBEAT_FRAME)
    else if (action === 'reconnect') this.reconnect()
  }

  private reconnect(): void {
    const pauseMs = this.policy.lost()
    this.options.counters.reconnects++
    this.options.logger.warn({ gateway: this.options.gateway, retryInMs: pauseMs }, 'gateway silent; reconnecting')
    this.disconnect('reconnecting', 0)
    this.handlers.lost()
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      if (!this.shut && !this.policy.leaving) this.connect()
    }, pauseMs)
  }

  /** Resolves with whether ZeroMQ took the message; a failure is logged, never thrown. */
  private send(frame: Buffer): Promise<boolean> {
    const sender = this.sender
    if (sender === undefined) return Promise.resolve(false)
    this.policy.sent(this.clock())
    return sender.send([frame]).then(
      () => true,
      (error: unknown) => {
        this.sendLog.warn({ err: errorMessage(error) }, 'message to gateway not sent')
        return false
      },
    )
  }

  private onMessage(frames: Buffer[]): void {
    const validated = validateGatewayHeader(frames[0] ?? Buffer.alloc(0))
    if (!validated.ok) {
      this.options.counters.malformed++
      this.malformedLog.warn({ reason: validated.reason }, 'malformed message from gateway')
      return
    }
    const header = validated.header
    switch (header.type) {
      case 'heartbeat':
        return
      case 'cancel':
        return this.handlers.cancel(header.client)
      case 'stop':
        return this.handlers.stop()
      case 'task':
        return this.handlers.task(header, frames[1], this.policy.session)
    }
  }
}
