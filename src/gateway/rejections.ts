/**
 * The gateway's `rejected` answers, sent straight to each client's results
 * socket through a bounded cache of PUSH sockets. A rejection that cannot be
 * handed over (the client is gone, evicted, or never was there) is counted
 * and logged a few lines a second, never retried forever. With CURVE the
 * sockets present the gateway's key pair (ReplySocketsOptions `curve`), which a
 * client's `--workers-allow` must list to take the gateway's answers.
 */
import { errorMessage } from '../errors.js'
import { RateLimitedLog, type Logger } from '../log.js'
import { rejectedFrame } from '../protocol/frames.js'
import { ReplySockets, type ReplySocketsOptions } from '../transport/reply-sockets.js'
import type { Rejection } from './ports.js'

export class Rejections {
  private readonly replies: ReplySockets
  private readonly log: RateLimitedLog

  constructor(
    options: ReplySocketsOptions,
    private readonly counters: { undelivered: number },
    logger: Logger,
  ) {
    this.replies = new ReplySockets(options)
    this.log = new RateLimitedLog(logger)
  }

  /** Sends over CURVE, with the task's `replyKey` as the server key, when the task carried one. */
  send({ replyTo, id, client, reason, retryable, replyKey }: Rejection): void {
    this.replies.send(replyTo, [rejectedFrame(id, client, reason, retryable)], replyKey).catch((error: unknown) => {
      this.counters.undelivered++
      this.log.warn({ id, client, replyTo, reason, err: errorMessage(error) }, 'rejection not delivered')
    })
  }

  /** Gives what was accepted up to `lingerMs` to leave, then closes every socket. */
  async close(lingerMs: number): Promise<void> {
    await this.replies.close(lingerMs)
    this.log.flush()
  }
}
