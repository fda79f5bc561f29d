/**
 * One sender per socket. zeromq.js rejects a `send()` issued while another is
 * pending with EBUSY, so every message for a socket goes through this queue.
 * Each message gets the first attempt plus `retries` more, each waiting up to
 * `retryDelayMs` (the socket's `sendTimeout`) for room below the high-water
 * mark. When one message exhausts its retries, everything queued behind it
 * would wait just as long, so those fail at once too.
 */
import { Deque } from '../util/deque.js'
import { SendError, errorCode, errorMessage } from '../errors.js'

/** The part of a zeromq.js writable socket the sender uses. */
export interface WritableSocket {
  send(message: Buffer[]): Promise<void>
  sendTimeout: number
  readonly closed: boolean
}

export interface SenderOptions {
  /**
   * Retries after the first attempt while the high-water mark is reached.
   * @default 10
   */
  readonly retries?: number
  /**
   * How long each attempt waits for room, in milliseconds (the socket's `sendTimeout`).
   * @default 1000
   */
  readonly retryDelayMs?: number
  /**
   * Messages allowed to wait in this queue; beyond it `send()` rejects with
   * `ERR_SEND_BACKLOG_FULL` rather than grow without bound.
   * @default 10000
   */
  readonly maxBacklog?: number
  /**
   * When one message exhausts its retries, fail everything queued behind it
   * at once. Right for a socket with one peer; wrong for a ROUTER, where one
   * stuck peer says nothing about the others.
   * @default true
   */
  readonly failFast?: boolean
  /** Called before each retry, for counting. */
  readonly onRetry?: (attempt: number) => void
}

export const senderDefaults = { retries: 10, retryDelayMs: 1000, maxBacklog: 10_000 } as const

interface Pending {
  readonly frames: Buffer[]
  readonly resolve: () => void
  readonly reject: (error: SendError) => void
}

/** Serialises sends on one socket with bounded retries. */
export class Sender {
  private readonly queue = new Deque<Pending>()
  private readonly retries: number
  private readonly maxBacklog: number
  private readonly onRetry: ((attempt: number) => void) | undefined
  private readonly failFast: boolean
  /**
   * Kept here, not read back from the socket: zeromq.js getters throw ENOTSOCK
   * once the socket is closed (evicted from a cache, say), and a throw there
   * would escape as an unhandled rejection.
   */
  private readonly retryDelayMs: number
  private pumping = false
  private closedReason: string | undefined

  constructor(
    private readonly socket: WritableSocket,
    /** Where the socket sends to, for error messages. */
    readonly endpoint: string,
    options: SenderOptions = {},
  ) {
    this.retries = options.retries ?? senderDefaults.retries
    this.maxBacklog = options.maxBacklog ?? senderDefaults.maxBacklog
    this.onRetry = options.onRetry
    this.failFast = options.failFast ?? true
    this.retryDelayMs = options.retryDelayMs ?? senderDefaults.retryDelayMs
    socket.sendTimeout = this.retryDelayMs
  }

  /** Messages waiting, including the one being sent. */
  get backlog(): number {
    return this.queue.length
  }

  /** Queues a multipart message; resolves once ZeroMQ has accepted it. */
  send(frames: Buffer[]): Promise<void> {
    if (this.closedReason !== undefined) {
      return Promise.reject(new SendError('ERR_SEND_CLOSED', this.endpoint, `sender for ${this.endpoint} is closed`))
    }
    if (this.queue.length >= this.maxBacklog) {
      return Promise.reject(
        new SendError('ERR_SEND_BACKLOG_FULL', this.endpoint, `${this.maxBacklog} messages already wait for ${this.endpoint}`),
      )
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ frames, resolve, reject })
      if (!this.pumping) void this.pump()
    })
  }

  /**
   * Takes back a message still waiting behind others (not one being sent now):
   * it leaves the queue unsent and its promise resolves. For messages that no
   * longer need to go, so they do not hold a place in the bounded backlog.
   * Returns whether it was waiting.
   */
  withdraw(frames: Buffer[]): boolean {
    const sending = this.pumping ? this.queue.peek() : undefined
    const removed = this.queue.removeWhere((item) => item.frames === frames && item !== sending)
    for (const item of removed) item.resolve()
    return removed.length > 0
  }

  /** Resolves when nothing is waiting. */
  async drained(): Promise<void> {
    while (this.queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 5))
  }

  /** Fails every waiting message with `ERR_SEND_CLOSED`; later sends reject at once. */
  close(reason = 'closed'): void {
    if (this.closedReason !== undefined) return
    this.closedReason = reason
    this.failAll(new SendError('ERR_SEND_CLOSED', this.endpoint, `sender for ${this.endpoint} ${reason}`))
  }

  private failAll(error: SendError): void {
    for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) item.reject(error)
  }

  /** Never rejects: every outcome, even an unexpected throw, settles the message it was sending. */
  private async pump(): Promise<void> {
    this.pumping = true
    try {
      for (let item = this.queue.peek(); item !== undefined; item = this.queue.peek()) {
        const failure = await this.sendOne(item.frames).catch(
          (error: unknown) =>
            new SendError('ERR_SEND_FAILED', this.endpoint, `send to ${this.endpoint} failed: ${errorMessage(error)}`, { cause: error }),
        )
        if (this.queue.peek() !== item) continue // close() already failed it
        this.queue.shift()
        if (failure === undefined) {
          item.resolve()
        } else {
          item.reject(failure)
          if (this.failFast && failure.code === 'ERR_SEND_RETRIES_EXHAUSTED') this.failAll(failure)
        }
      }
    } finally {
      this.pumping = false
    }
  }

  private async sendOne(frames: Buffer[]): Promise<SendError | undefined> {
    for (let attempt = 0; ; attempt++) {
      if (this.closedReason !== undefined || this.socket.closed) {
        return new SendError('ERR_SEND_CLOSED', this.endpoint, `socket for ${this.endpoint} is closed`)
      }
      try {
        await this.socket.send(frames)
        return undefined
      } catch (error) {
        // A socket closed under a pending send (evicted from a cache, or closed at
        // shutdown) rejects it, often with EAGAIN: that is a closed sender, not a peer
        // at its high-water mark, and the socket must not be touched again.
        if (this.closedReason !== undefined || this.socket.closed) {
          return new SendError('ERR_SEND_CLOSED', this.endpoint, `socket for ${this.endpoint} was closed`, { cause: error })
        }
        const code = errorCode(error)
        if (code === 'EAGAIN' && attempt < this.retries) {
          this.onRetry?.(attempt + 1)
          continue
        }
        if (code === 'EAGAIN') {
          return new SendError(
            'ERR_SEND_RETRIES_EXHAUSTED',
            this.endpoint,
            `${this.endpoint} did not accept a message in ${this.retries + 1} attempts of ${this.retryDelayMs} ms`,
            { cause: error },
          )
        }
        return new SendError('ERR_SEND_FAILED', this.endpoint, `send to ${this.endpoint} failed: ${errorMessage(error)}`, {
          cause: error,
        })
      }
    }
  }
}
