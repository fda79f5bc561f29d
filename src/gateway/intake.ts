/**
 * The gateway's intake: a PULL socket that clients' PUSH sockets connect to.
 * It validates each message's header and hands the core what it read, and it
 * stops reading while the core is full, so ZeroMQ's high-water marks push
 * back on the clients instead of memory growing here.
 */
import { Pull, type Context, type Socket } from 'zeromq'
import { ConfigError, errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import { validateIntakeHeader } from '../protocol/validate.js'
import { isZ85Key } from '../security/z85.js'
import { receiveLoop } from '../transport/receive-loop.js'
import { ExternalMemoryBudget } from '../util/external-memory.js'
import { background } from '../util/background.js'
import type { IntakeMessage, ReplyTarget } from './ports.js'

/** What the intake feeds. */
export interface IntakeSink {
  intake(message: IntakeMessage): void
  readonly isFull: boolean
  whenNotFull(): Promise<void>
}

/** Reads one intake message: a task, an abort, or why it is malformed (with whom to answer, when known). */
export function decodeIntake(frames: readonly Buffer[]): IntakeMessage {
  const validated = validateIntakeHeader(frames[0]!)
  if (!validated.ok) {
    const { reason, replyTo } = validated
    if (replyTo === undefined) return { type: 'malformed', reason }
    // A failed validation that could read a replyKey lets the answer go over CURVE too.
    const replyKey = 'replyKey' in validated ? validated.replyKey : undefined
    return { type: 'malformed', reason, answer: target(replyTo, validated.id ?? '-', validated.client ?? '-', replyKey) }
  }
  const header = validated.header
  if (header.type === 'abort') {
    if (frames.length !== 1) return { type: 'malformed', reason: 'abort must have no body frame' }
    return { type: 'abort', client: header.client }
  }
  // validateHeader already refused a replyKey that is not a Z85 key (src/protocol/curve-key.ts).
  const replyKey = header.replyKey
  if (frames.length !== 2) {
    return { type: 'malformed', reason: `task must have 2 frames, got ${frames.length}`, answer: target(header.replyTo, header.id, header.client, replyKey) }
  }
  return { type: 'task', header, body: frames[1]! }
}

function target(replyTo: string, id: string, client: string, replyKey?: unknown): ReplyTarget {
  return isZ85Key(replyKey) ? { replyTo, id, client, replyKey } : { replyTo, id, client }
}

export class Intake {
  private readonly socket: Pull

  constructor(
    private readonly endpoint: string,
    options: { readonly maxMessageBytes: number; readonly highWaterMark: number; readonly context?: Context },
  ) {
    const context = options.context === undefined ? {} : { context: options.context }
    this.socket = new Pull({ ...context, linger: 0, maxMessageSize: options.maxMessageBytes, receiveHighWaterMark: options.highWaterMark })
  }

  /** Lets `apply` make the socket a CURVE server before it binds (see CurveGuard.secure). */
  secure(apply: (socket: Socket) => void): void {
    apply(this.socket)
  }

  /** Binds; returns the endpoint as bound (the real port when bound to `:*`). */
  async bind(): Promise<string> {
    try {
      await this.socket.bind(this.endpoint)
    } catch (error) {
      throw new ConfigError('ERR_ENDPOINT', `cannot bind intake ${this.endpoint}: ${errorMessage(error)}`, { cause: error })
    }
    return this.socket.lastEndpoint ?? this.endpoint
  }

  /** Reads until closed, in the background. */
  serve(sink: IntakeSink, logger: Logger): void {
    const socket = this.socket
    // The bodies stay queued until dispatched; it is the forwarded ones that pin libzmq memory.
    const memory = new ExternalMemoryBudget()
    const loop = receiveLoop(socket, (frames) => {
      memory.received(frames.length > 1 ? frames[1]!.length : 0)
      sink.intake(decodeIntake(frames))
    }, {
      logger,
      what: 'intake',
      beforeReceive: () => (sink.isFull && !socket.closed ? sink.whenNotFull() : undefined),
    })
    background(loop, logger, 'intake loop')
  }

  close(): void {
    this.socket.close()
  }
}
