/**
 * A bounded cache of PUSH sockets, one per reply endpoint. Workers send
 * results and the gateway sends rejections straight to each client's bound
 * results socket; connecting anew per message would cost a handshake each
 * time, and keeping every socket forever would leak one per client ever seen.
 * Least recently used sockets are evicted past `maxSockets`, idle ones are
 * closed after `idleMs`, and a socket whose peer stops accepting is closed at
 * once, so messages for a vanished client fail fast instead of queueing.
 */
import { Push, curveKeyPair } from 'zeromq'
import { curveClientOptions, type CurveIdentity } from '../security/curve.js'
import { Sender } from './sender.js'
import { SendError, errorMessage } from '../errors.js'
import { withDefaults } from '../util/options.js'
import { monotonicClock, type Clock } from '../util/clock.js'

export interface ReplySocketsOptions {
  /**
   * Most sockets kept open at once.
   * @default 256
   */
  readonly maxSockets?: number
  /**
   * A socket unused for this long is closed, in milliseconds.
   * @default 60000
   */
  readonly idleMs?: number
  /**
   * Retries after the first attempt when a peer's high-water mark is reached.
   * @default 3
   */
  readonly retries?: number
  /**
   * Each attempt waits this long for room, in milliseconds.
   * @default 1000
   */
  readonly retryDelayMs?: number
  /**
   * Messages queued per socket before ZeroMQ blocks (ZMQ_SNDHWM).
   * @default 1000
   */
  readonly sendHighWaterMark?: number
  /**
   * Messages allowed to wait per endpoint in our own queue.
   * @default 10000
   */
  readonly maxBacklog?: number
  /**
   * How long a closed socket keeps trying to deliver what it accepted, in milliseconds.
   * @default 2000
   */
  readonly lingerMs?: number
  /** What idleness is measured on; tests pass a fake one. @default the monotonic clock */
  readonly clock?: Clock
  /**
   * This process's CURVE key pair, presented to reply endpoints that are
   * CURVE servers (a send with a `serverKey`). Without one, such sends use a
   * key pair made once for this process, which encrypts as well but is
   * accepted only by a client that allows any key.
   * @default none
   */
  readonly curve?: CurveIdentity
}

export const replySocketsDefaults = {
  maxSockets: 256,
  idleMs: 60_000,
  retries: 3,
  retryDelayMs: 1000,
  sendHighWaterMark: 1000,
  maxBacklog: 10_000,
  lingerMs: 2000,
  clock: monotonicClock,
} as const

/** The cache key: one socket per endpoint and server key (a client that restarts with a new key gets a new socket). */
function keyOf(endpoint: string, serverKey: string | undefined): string {
  return serverKey === undefined ? endpoint : `${endpoint}\0${serverKey}`
}

interface Entry {
  readonly socket: Push
  readonly sender: Sender
  lastUsed: number
}

/** PUSH sockets by reply endpoint, bounded and reaped. */
export class ReplySockets {
  private readonly entries = new Map<string, Entry>()
  private readonly options: Required<Omit<ReplySocketsOptions, 'curve'>>
  private curve: CurveIdentity | undefined
  private readonly sweeper: NodeJS.Timeout
  private closed = false

  /** Sockets opened since creation, for monitoring. */
  opened = 0

  constructor(options: ReplySocketsOptions = {}) {
    const { curve, ...rest } = options
    this.options = withDefaults(replySocketsDefaults, rest) as Required<Omit<ReplySocketsOptions, 'curve'>>
    this.curve = curve
    this.sweeper = setInterval(() => this.sweep(), Math.max(100, this.options.idleMs / 2))
    this.sweeper.unref()
  }

  /** Open sockets. */
  get size(): number {
    return this.entries.size
  }

  /**
   * Sends `frames` to `endpoint`, over CURVE with `serverKey` as the server's
   * public key when one is given (a task's `replyKey`). Rejects with a
   * {@link SendError} when the peer does not accept it within the retries, or
   * the endpoint is unusable.
   */
  send(endpoint: string, frames: Buffer[], serverKey?: string): Promise<void> {
    if (this.closed) {
      return Promise.reject(new SendError('ERR_SEND_CLOSED', endpoint, 'reply sockets are closed'))
    }
    const key = keyOf(endpoint, serverKey)
    let entry = this.entries.get(key)
    if (entry === undefined) {
      try {
        entry = this.open(endpoint, serverKey)
      } catch (error) {
        return Promise.reject(
          new SendError('ERR_SEND_FAILED', endpoint, `cannot connect to ${endpoint}: ${errorMessage(error)}`, { cause: error }),
        )
      }
    } else {
      // Re-insert to keep the Map in least-recently-used order.
      this.entries.delete(key)
      this.entries.set(key, entry)
    }
    entry.lastUsed = this.options.clock()
    const used = entry
    return used.sender.send(frames).catch((error: unknown) => {
      if (error instanceof SendError && error.code === 'ERR_SEND_RETRIES_EXHAUSTED') this.discard(key, used, 0)
      throw error
    })
  }

  /**
   * Connects to `endpoint` ahead of the first send, so that the TCP and ZMTP
   * handshakes overlap the work instead of delaying the result.
   */
  prepare(endpoint: string, serverKey?: string): void {
    if (this.closed || this.entries.has(keyOf(endpoint, serverKey))) return
    try {
      this.open(endpoint, serverKey)
    } catch {
      // send() reports it, with the endpoint, when there is something to deliver.
    }
  }

  /**
   * Closes every socket. Messages still waiting in our queues get up to
   * `lingerMs` to be handed to ZeroMQ (a vanished client would otherwise hold
   * shutdown through all its send retries); then the sockets close with the
   * remaining linger, so ZeroMQ keeps delivering in the background.
   */
  async close(lingerMs = this.options.lingerMs): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.sweeper)
    const started = this.options.clock()
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, lingerMs)))
    await Promise.race([Promise.all([...this.entries.values()].map((entry) => entry.sender.drained())), deadline])
    clearTimeout(timer)
    const remaining = Math.max(0, lingerMs - (this.options.clock() - started))
    for (const [key, entry] of this.entries) this.discard(key, entry, remaining)
  }

  private open(endpoint: string, serverKey: string | undefined): Entry {
    const curve = serverKey === undefined ? {} : curveClientOptions((this.curve ??= curveKeyPair()), serverKey)
    const socket = new Push({
      ...curve,
      linger: this.options.lingerMs,
      sendHighWaterMark: this.options.sendHighWaterMark,
      // Queue only on connected pipes, so a vanished client makes sends time
      // out (and get dropped with a log line) instead of piling up unseen.
      immediate: true,
    })
    try {
      socket.connect(endpoint)
    } catch (error) {
      socket.close()
      throw error
    }
    const sender = new Sender(socket, endpoint, {
      retries: this.options.retries,
      retryDelayMs: this.options.retryDelayMs,
      maxBacklog: this.options.maxBacklog,
    })
    const entry: Entry = { socket, sender, lastUsed: this.options.clock() }
    this.entries.set(keyOf(endpoint, serverKey), entry)
    this.opened++
    if (this.entries.size > this.options.maxSockets) {
      const oldest = this.entries.keys().next().value as string
      this.discard(oldest, this.entries.get(oldest)!, this.options.lingerMs)
    }
    return entry
  }

  private discard(key: string, entry: Entry, lingerMs: number): void {
    if (this.entries.get(key) === entry) this.entries.delete(key)
    entry.sender.close('was closed')
    if (!entry.socket.closed) {
      entry.socket.linger = lingerMs
      entry.socket.close()
    }
  }

  /** Closes the sockets idle for `idleMs` with nothing waiting; runs every `idleMs / 2` by itself. */
  sweep(): void {
    const cutoff = this.options.clock() - this.options.idleMs
    for (const [key, entry] of this.entries) {
      if (entry.lastUsed > cutoff) break // LRU order: the rest are newer
      if (entry.sender.backlog === 0) this.discard(key, entry, this.options.lingerMs)
    }
  }
}

