/**
 * The read loop every socket of the project runs: receive until the socket
 * closes, hand each message to a handler, and survive everything else. A
 * failed receive or a handler that throws is logged and the loop goes on, so
 * one bad message never stops a socket or loses the next one.
 */
import { errorMessage } from '../errors.js'
import { RateLimitedLog, type Logger } from '../log.js'

/** The part of a zeromq.js readable socket the loop uses. */
export interface ReadableSocket {
  receive(): Promise<Buffer[]>
  readonly closed: boolean
}

export interface ReceiveLoopOptions {
  readonly logger: Logger
  /** Names the socket in log lines, e.g. 'intake'. */
  readonly what: string
  /** Awaited before each receive; the gateway's intake pauses here while its queue is full. */
  readonly beforeReceive?: () => Promise<void> | undefined
}

/** Pause after a receive error on an open socket, so a persistent error cannot spin the CPU. */
const ERROR_PAUSE_MS = 10

/** Runs until `socket` closes. Never rejects. */
export async function receiveLoop(socket: ReadableSocket, handle: (frames: Buffer[]) => void, options: ReceiveLoopOptions): Promise<void> {
  // A handler bug hit by every message must not write a line per message.
  const failures = new RateLimitedLog(options.logger)
  while (!socket.closed) {
    const wait = options.beforeReceive?.()
    if (wait !== undefined) {
      await wait
      continue
    }
    let frames: Buffer[]
    try {
      frames = await socket.receive()
    } catch (error) {
      if (socket.closed) return
      options.logger.error({ err: errorMessage(error) }, `${options.what}: receive failed`)
      await new Promise((resolve) => setTimeout(resolve, ERROR_PAUSE_MS))
      continue
    }
    try {
      handle(frames)
    } catch (error) {
      failures.warn({ err: errorMessage(error) }, `${options.what}: message could not be handled`)
    }
  }
}
