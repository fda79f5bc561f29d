/**
 * The submit side of the client, a thin adapter: one PUSH socket connected
 * to every gateway, fed through a {@link Sender} (bounded retries, bounded
 * backlog), plus the `abort` that Ctrl+C sends to each gateway.
 */
import { Push } from 'zeromq'
import { errorMessage } from '../errors.js'
import { RateLimitedLog, type Logger } from '../log.js'
import { abortFrame, taskFrame } from '../protocol/frames.js'
import { curveClientOptions } from '../security/curve.js'
import type { PeerKeys } from '../security/peer-keys.js'
import { Sender } from '../transport/sender.js'
import { monotonicClock, type Clock } from '../util/clock.js'
import type { Batch } from './batcher.js'

/** A wait for a gateway is logged once, then at most once a minute however often the gateways come and go. */
const WAIT_LOG_INTERVAL_MS = 60_000

export interface SubmitPortOptions {
  readonly servers: readonly string[]
  readonly clientId: string
  /** The results endpoint every task names. */
  readonly replyTo: string
  readonly sendRetries: number
  readonly retryDelayMs: number
  /** Sends allowed to wait at once. */
  readonly maxBacklog: number
  readonly logger: Logger
  /** CURVE to the gateways: the client's identity, a server key per server, and the `replyKey` every task carries. */
  readonly curve?: PeerKeys
  /** @default monotonicClock */
  readonly clock?: Clock
}

/** The client is waiting for a gateway to take a batch: where it sends, and since when. */
export interface GatewayWait {
  readonly endpoint: string
  readonly sinceMs: number
}

export class SubmitPort {
  private readonly socket: Push
  private readonly sender: Sender
  /** The frames of each batch's send still queued, to withdraw it if the batch settles first. */
  private readonly queued = new Map<number, Buffer[]>()
  private refusedLog: RateLimitedLog | undefined
  private readonly where: string
  private readonly clock: Clock
  /** When the send that is stuck began waiting; undefined while sends go through. */
  private waitingSince: number | undefined
  private lastWaitLogAt = Number.NEGATIVE_INFINITY
  private waitsUnlogged = 0
  /** Frames taken back by {@link withdraw}: their send resolved without anything having gone out. */
  private readonly withdrawn = new WeakSet<Buffer[]>()

  constructor(private readonly options: SubmitPortOptions) {
    const where = options.servers.join(', ')
    this.where = where
    this.clock = options.clock ?? monotonicClock
    // Queue only on completed connections: with no gateway up, sends time out and are retried
    // (then reported) instead of piling up in a pipe to nowhere.
    const curve = options.curve
    this.socket = new Push({ linger: 0, immediate: true, ...(curve === undefined ? {} : curveClientOptions(curve.identity, curve.serverKeys[0]!)) })
    if (curve !== undefined) this.watchRefusals(curve.identity.publicKey)
    try {
      options.servers.forEach((server, i) => {
        if (curve !== undefined && i > 0) setServerKey(this.socket, curve.serverKeys[i]!)
        this.socket.connect(server)
      })
    } catch (error) {
      this.socket.close()
      throw error
    }
    this.sender = new Sender(this.socket, where, {
      retries: options.sendRetries,
      retryDelayMs: options.retryDelayMs,
      maxBacklog: options.maxBacklog,
      onRetry: (attempt) => this.retrying(attempt),
    })
  }

  /** While no gateway takes a batch: where, and since when (the clock's time); for a progress line. */
  get waiting(): GatewayWait | undefined {
    return this.waitingSince === undefined ? undefined : { endpoint: this.where, sinceMs: this.waitingSince }
  }

  /**
   * One warning when a wait begins, not one per retry: a person sees that the
   * client waits and for how long it will, and a progress line counts the
   * seconds (ten warnings over eleven seconds said nothing more).
   */
  private retrying(attempt: number): void {
    const o = this.options
    o.logger.debug({ attempt, of: o.sendRetries }, 'send retry')
    if (this.waitingSince !== undefined) return
    const now = this.clock()
    // The attempt that just ran out started one retry delay ago.
    this.waitingSince = now - o.retryDelayMs
    this.waitsUnlogged++
    if (now - this.lastWaitLogAt < WAIT_LOG_INTERVAL_MS) return
    const again = this.waitsUnlogged > 1 ? { waitsSinceLastLine: this.waitsUnlogged } : {}
    o.logger.warn(
      { gateway: this.where, retries: o.sendRetries, retryDelayMs: o.retryDelayMs, ...again },
      `no gateway accepting at ${this.where} (not up, or its queue is full); retrying up to ${o.sendRetries} times, ${o.retryDelayMs} ms apart`,
    )
    this.lastWaitLogAt = now
    this.waitsUnlogged = 0
  }

  private waitOver(): void {
    if (this.waitingSince === undefined) return
    this.options.logger.info({ gateway: this.where, waitedMs: Math.round(this.clock() - this.waitingSince) }, 'a gateway takes batches again')
    this.waitingSince = undefined
  }

  /** A gateway that refuses our key only stops taking batches: say why in the log, at most once a second. */
  private watchRefusals(publicKey: string): void {
    const log = new RateLimitedLog(this.options.logger, 1)
    this.socket.events.on('handshake:error:auth', (event) =>
      log.warn({ gateway: event.address, publicKey, status: event.error.status }, "a gateway refused this client's key: is its NAME.key in the gateway's --clients-allow?"),
    )
    this.refusedLog = log
  }

  /** Sends `batch` as its attempt `attempt`; resolves once ZeroMQ took it (or it was withdrawn), rejects with `SendError`. */
  async send(batch: Batch, attempt: number): Promise<void> {
    const frames = [taskFrame(batch.id, this.options.clientId, this.options.replyTo, attempt, this.options.curve?.identity.publicKey), batch.body]
    this.queued.set(batch.seq, frames)
    try {
      await this.sender.send(frames)
      if (this.waitingSince !== undefined && !this.withdrawn.has(frames)) this.waitOver()
    } catch (error) {
      // Sending stopped for good (retries ran out, or Ctrl+C): nothing waits any more.
      this.waitingSince = undefined
      throw error
    } finally {
      if (this.queued.get(batch.seq) === frames) this.queued.delete(batch.seq)
    }
  }

  /** Takes back the queued send of `seq`, if it has not started: its promise resolves and nothing goes out. */
  withdraw(seq: number): void {
    const frames = this.queued.get(seq)
    if (frames !== undefined && this.sender.withdraw(frames)) this.withdrawn.add(frames)
  }

  /** Fails every queued send with `ERR_SEND_CLOSED` (a send in its retries must not hold Ctrl+C up); later sends reject at once. */
  stop(reason: string): void {
    this.sender.close(reason)
  }

  /** Stops the sender and closes the socket. */
  close(): void {
    this.refusedLog?.flush()
    this.sender.close('closed')
    if (!this.socket.closed) this.socket.close()
  }
}

/**
 * Tells every gateway to drop this client's queued batches. One short-lived
 * socket per gateway: on the shared PUSH, ZeroMQ would deliver the abort to
 * one gateway only. Never rejects; an abort not delivered is logged.
 */
export async function sendAbort(servers: readonly string[], clientId: string, logger: Logger, curve?: PeerKeys): Promise<void> {
  const frame = abortFrame(clientId)
  await Promise.all(
    servers.map(async (server, i) => {
      let socket: Push | undefined
      try {
        socket = new Push({ linger: 500, sendTimeout: 500, ...(curve === undefined ? {} : curveClientOptions(curve.identity, curve.serverKeys[i]!)) })
        socket.connect(server)
        await socket.send(frame)
      } catch (error) {
        logger.warn({ server, err: errorMessage(error) }, 'abort not delivered')
      } finally {
        socket?.close()
      }
    }),
  )
}

/**
 * Sets the server key for the socket's next connect. libzmq copies a socket's
 * options into each connection as it is made, so one PUSH can reach gateways
 * with different keys; zeromq.js warns that an option set after a connect
 * "will not take effect until next connect", which is the point here, so that
 * one warning is kept out of the user's terminal.
 */
function setServerKey(socket: Push, key: string): void {
  const emitWarning = process.emitWarning
  process.emitWarning = () => undefined
  try {
    socket.curveServerKey = key
  } finally {
    process.emitWarning = emitWarning
  }
}
