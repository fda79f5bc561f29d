/**
 * The submit side of the client, a thin adapter: one PUSH socket connected
 * to every gateway, fed through a {@link Sender} (bounded retries, bounded
 * backlog), plus the `abort` that Ctrl+C sends to each gateway.
 */
import { Push } from 'zeromq'
import { errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import { abortFrame, taskFrame } from '../protocol/frames.js'
import { Sender } from '../transport/sender.js'
import type { Batch } from './batcher.js'

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
}

export class SubmitPort {
  private readonly socket: Push
  private readonly sender: Sender
  /** The frames of each batch's send still queued, to withdraw it if the batch settles first. */
  private readonly queued = new Map<number, Buffer[]>()

  constructor(private readonly options: SubmitPortOptions) {
    const where = options.servers.join(', ')
    // Queue only on completed connections: with no gateway up, sends time out and are retried
    // (then reported) instead of piling up in a pipe to nowhere.
    this.socket = new Push({ linger: 0, immediate: true })
    try {
      for (const server of options.servers) this.socket.connect(server)
    } catch (error) {
      this.socket.close()
      throw error
    }
    this.sender = new Sender(this.socket, where, {
      retries: options.sendRetries,
      retryDelayMs: options.retryDelayMs,
      maxBacklog: options.maxBacklog,
      onRetry: (attempt) => options.logger.warn({ attempt, of: options.sendRetries }, `no gateway accepting at ${where}; retrying`),
    })
  }

  /** Sends `batch` as its attempt `attempt`; resolves once ZeroMQ took it (or it was withdrawn), rejects with `SendError`. */
  async send(batch: Batch, attempt: number): Promise<void> {
    const frames = [taskFrame(batch.id, this.options.clientId, this.options.replyTo, attempt), batch.body]
    this.queued.set(batch.seq, frames)
    try {
      await this.sender.send(frames)
    } finally {
      if (this.queued.get(batch.seq) === frames) this.queued.delete(batch.seq)
    }
  }

  /** Takes back the queued send of `seq`, if it has not started: its promise resolves and nothing goes out. */
  withdraw(seq: number): void {
    const frames = this.queued.get(seq)
    if (frames !== undefined) this.sender.withdraw(frames)
  }

  /** Fails every queued send with `ERR_SEND_CLOSED` (a send in its retries must not hold Ctrl+C up); later sends reject at once. */
  stop(reason: string): void {
    this.sender.close(reason)
  }

  /** Stops the sender and closes the socket. */
  close(): void {
    this.sender.close('closed')
    if (!this.socket.closed) this.socket.close()
  }
}

/**
 * Tells every gateway to drop this client's queued batches. One short-lived
 * socket per gateway: on the shared PUSH, ZeroMQ would deliver the abort to
 * one gateway only. Never rejects; an abort not delivered is logged.
 */
export async function sendAbort(servers: readonly string[], clientId: string, logger: Logger): Promise<void> {
  const frame = abortFrame(clientId)
  await Promise.all(
    servers.map(async (server) => {
      let socket: Push | undefined
      try {
        socket = new Push({ linger: 500, sendTimeout: 500 })
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
