/**
 * The results side of the client, a thin adapter: the PULL socket it binds
 * (its `replyTo`), the read loop, and the header checks. Only a valid
 * `result` or `rejected` for this client and a batch id of ours gets past it;
 * everything else is dropped with a rate-limited warning. The body of a
 * result is checked later, against the batch it answers.
 */
import { Context, Pull } from 'zeromq'
import { ConfigError, errorMessage } from '../errors.js'
import { RateLimitedLog, type Logger } from '../log.js'
import type { RejectedHeader, ResultHeader } from '../protocol/types.js'
import { validateClientInboundHeader } from '../protocol/validate.js'
import { curveServerOptions, type CurveIdentity } from '../security/curve.js'
import { ZapHandler, type ZapRefusal } from '../security/zap.js'
import { isWildcardHost } from '../transport/endpoint.js'
import { receiveLoop } from '../transport/receive-loop.js'
import { background } from '../util/background.js'

/** Where the messages that pass the checks go, by batch sequence number. */
export interface ResultsHandler {
  result(seq: number, header: ResultHeader, body: Buffer | undefined): void
  rejected(seq: number, header: RejectedHeader): void
}

export interface ResultsPortOptions {
  readonly bind: string
  /** `replyTo` to announce instead of the bound endpoint; required when that listens on every interface. */
  readonly advertise?: string
  readonly maxMessageBytes: number
  readonly logger: Logger
  /** Makes the socket a CURVE server on the client's own key (workers connect with it, the task's `replyKey`). */
  readonly curve?: ResultsCurve
}

export interface ResultsCurve {
  readonly identity: CurveIdentity
  /** Worker keys that may deliver; absent: any key may. */
  readonly allow?: ReadonlySet<string>
  /** A worker connection the allow-list refused. Must not throw. */
  readonly onRefused: (refusal: ZapRefusal) => void
  readonly onError: (error: unknown) => void
}

/** Batches carry their sequence number as a decimal id; anything else is not ours. */
const BATCH_ID = /^[1-9][0-9]{0,15}$/

export class ResultsPort {
  private readonly malformed: RateLimitedLog
  /**
   * Valid answers for another client id: an earlier run that used this port
   * (its workers' sockets reconnect to whoever binds it next and deliver what
   * they still held). Expected, harmless and possibly many, so they are
   * counted and told in one line at the end, not one warning each.
   */
  private late = 0
  private closed = false

  private constructor(
    private readonly socket: Pull,
    /** The endpoint workers send results to. */
    readonly replyTo: string,
    private readonly logger: Logger,
    private readonly zap: ZapHandler | undefined,
  ) {
    this.malformed = new RateLimitedLog(logger)
  }

  /** Binds the results socket; throws {@link ConfigError} `ERR_ENDPOINT` when it cannot, or when a wildcard bind has no `advertise`. */
  static async bind(options: ResultsPortOptions): Promise<ResultsPort> {
    const { socket, zap } = await ResultsPort.open(options)
    const closeAll = (): void => {
      socket.close()
      zap?.close()
    }
    try {
      await socket.bind(options.bind)
    } catch (error) {
      closeAll()
      throw new ConfigError('ERR_ENDPOINT', `cannot bind results socket ${options.bind}: ${errorMessage(error)}`, { cause: error })
    }
    const bound = socket.lastEndpoint ?? options.bind
    if (options.advertise === undefined && isWildcardHost(bound)) {
      closeAll()
      throw new ConfigError(
        'ERR_ENDPOINT',
        `results socket ${options.bind} listens on every interface; pass an address workers can reach with --advertise (e.g. tcp://<this-host>:${bound.split(':').pop()})`,
      )
    }
    return new ResultsPort(socket, options.advertise ?? bound, options.logger, zap)
  }

  /**
   * The PULL socket, plain or a CURVE server. A CURVE one lives in a zeromq
   * Context of its own, where the only ZAP handler is this socket's: with an
   * allow-list, that handler admits its keys alone; without one there is no
   * handler in the context, and libzmq then lets every CURVE client in (the
   * handshake still proves the client holds the secret of the key it shows).
   */
  private static async open(options: ResultsPortOptions): Promise<{ socket: Pull; zap: ZapHandler | undefined }> {
    const curve = options.curve
    if (curve === undefined) return { socket: new Pull({ linger: 0, maxMessageSize: options.maxMessageBytes }), zap: undefined }
    const context = new Context()
    const allow = curve.allow
    const zap = allow === undefined ? undefined : await ZapHandler.start(context, { allows: (key) => allow.has(key), onRefused: curve.onRefused, onError: curve.onError })
    return { socket: new Pull({ context, linger: 0, maxMessageSize: options.maxMessageBytes, ...curveServerOptions(curve.identity) }), zap }
  }

  /** Starts reading; messages for `clientId` go to `handler` until {@link close}. */
  start(clientId: string, handler: ResultsHandler): void {
    const onMessage = (frames: Buffer[]): void => {
      const validated = validateClientInboundHeader(frames[0]!)
      if (!validated.ok) return this.malformed.warn({ reason: validated.reason }, 'malformed message on results socket')
      const header = validated.header
      if (header.client !== clientId) {
        this.late++
        return
      }
      if (!BATCH_ID.test(header.id)) return this.malformed.warn({ id: header.id }, 'message with a batch id this client never sends dropped')
      const seq = Number(header.id)
      if (header.type === 'result') handler.result(seq, header, frames[1])
      else handler.rejected(seq, header)
    }
    background(receiveLoop(this.socket, onMessage, { logger: this.logger, what: 'results' }), this.logger, 'results loop')
  }

  /** Answers for another client id ignored so far (see {@link late}). */
  get lateAnswers(): number {
    return this.late
  }

  /** Closes the socket; then one line says how many answers for another client id were ignored, if any were. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.socket.close()
    this.zap?.close()
    this.malformed.flush()
    if (this.late > 0) {
      this.logger.warn(
        { ignored: this.late, replyTo: this.replyTo },
        `ignored ${this.late} late ${this.late === 1 ? 'result' : 'results'} from an earlier run on this port (another client id)`,
      )
    }
  }
}
