/**
 * The gateway's worker port: a ROUTER that workers' DEALERs connect to. It
 * validates what workers send, encodes what the core sends them (a task's
 * body frame is the client's, forwarded untouched), and sends through one
 * sender that never blocks the other workers on a stuck one.
 */
import { rm } from 'node:fs/promises'
import { Router, type Context, type Socket } from 'zeromq'
import { ConfigError, errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import { encode } from '../protocol/codec.js'
import { HEARTBEAT_FRAME, STOP_FRAME, cancelFrame, taskFrame } from '../protocol/frames.js'
import type { TaskHeader, WorkerToGatewayHeader } from '../protocol/types.js'
import { validateWorkerHeader } from '../protocol/validate.js'
import { ipcPath } from '../transport/endpoint.js'
import { receiveLoop } from '../transport/receive-loop.js'
import { Sender } from '../transport/sender.js'
import { background } from '../util/background.js'
import type { QueuedBatch } from './ledger.js'
import type { ToWorker } from './ports.js'
import type { WorkerSession } from './worker-session.js'

/** What the worker port feeds. */
export interface WorkerPortSink {
  /** A valid message from the connection whose routing id is `identity` (`key` is it as a map key). */
  workerMessage(key: string, identity: Buffer, header: WorkerToGatewayHeader): void
  malformed(source: 'workers', reason: string): void
}

/** The frames (after the routing id) that carry `message`. */
export function framesFor(message: ToWorker): Buffer[] {
  if (message.type === 'heartbeat') return [HEARTBEAT_FRAME]
  if (message.type === 'stop') return [STOP_FRAME]
  if (message.type === 'cancel') return [cancelFrame(message.client)]
  const batch = message.batch
  return [batch.replyKey === undefined ? taskFrame(batch.id, batch.client, batch.replyTo, batch.attempt) : curveTaskFrame(batch), batch.body]
}

/** A task header with the client's `replyKey`, as it came (protocol.md: the worker replies over CURVE with it). */
function curveTaskFrame(batch: QueuedBatch): Buffer {
  const header: TaskHeader = { v: 1, type: 'task', id: batch.id, client: batch.client, replyTo: batch.replyTo, attempt: batch.attempt, replyKey: batch.replyKey }
  return encode(header)
}

export class WorkerPort {
  private readonly router: Router
  private readonly sender: Sender

  constructor(
    private readonly endpoint: string,
    maxMessageBytes: number,
    context?: Context,
  ) {
    // No handover: a second connection claiming a connected routing id is refused by ZeroMQ
    // instead of taking over the first one's tasks.
    this.router = new Router({ ...(context === undefined ? {} : { context }), linger: 0, maxMessageSize: maxMessageBytes, mandatory: true, handover: false })
    // A ROUTER send that cannot go out at once means that worker is stuck; never block the others on it.
    this.sender = new Sender(this.router, endpoint, { retries: 0, retryDelayMs: 0, failFast: false })
  }

  /** Lets `apply` make the socket a CURVE server before it binds (see CurveGuard.secure). */
  secure(apply: (socket: Socket) => void): void {
    apply(this.router)
  }

  /** Binds; returns the endpoint as bound (the real port when bound to `:*`). */
  async bind(): Promise<string> {
    try {
      await this.router.bind(this.endpoint)
    } catch (error) {
      throw new ConfigError('ERR_ENDPOINT', `cannot bind worker port ${this.endpoint}: ${errorMessage(error)}`, { cause: error })
    }
    return this.router.lastEndpoint ?? this.endpoint
  }

  /** Reads until closed, in the background. */
  serve(sink: WorkerPortSink, logger: Logger): void {
    const handle = (frames: Buffer[]): void => {
      const identity = frames[0]!
      const validated = validateWorkerHeader(frames[1] ?? Buffer.alloc(0))
      if (!validated.ok) return sink.malformed('workers', validated.reason)
      if (frames.length !== 2) return sink.malformed('workers', `${validated.header.type} must have no body frame`)
      sink.workerMessage(identity.toString('latin1'), identity, validated.header)
    }
    background(receiveLoop(this.router, handle, { logger, what: 'worker port' }), logger, 'worker port loop')
  }

  /** Resolves once ZeroMQ took the message; rejects when the worker cannot take it now. */
  send(worker: WorkerSession, message: ToWorker): Promise<void> {
    return this.sender.send([worker.identity, ...framesFor(message)])
  }

  /** The poison pill to a connection with no session; a failure is of no consequence. */
  stopPeer(identity: Buffer): void {
    void this.sender.send([identity, STOP_FRAME]).catch(() => undefined)
  }

  close(): void {
    this.sender.close('closed')
    this.router.close()
  }

  /** Removes the socket file of an ipc:// port (ZeroMQ leaves it behind). */
  async removeFile(): Promise<void> {
    const path = ipcPath(this.endpoint)
    if (path !== undefined) await rm(path, { force: true }).catch(() => undefined)
  }
}
