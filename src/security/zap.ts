/**
 * A ZAP handler (ZeroMQ RFC 27): libzmq asks it, over
 * `inproc://zeromq.zap.01` in the socket's own context, whether to accept
 * each connecting CURVE peer, and the peer's messages arrive only if it says
 * 200. One handler per context, so each server socket (intake, worker port,
 * status port) lives in a context of its own with its own allow-list while
 * all use the one ZAP domain `cgw`.
 *
 * Only libzmq writes to this socket, but its frames are still checked: a
 * request that is not well-formed is refused, never thrown on.
 */
import { Router, type Context } from 'zeromq'
import { errorMessage } from '../errors.js'
import { ZAP_DOMAIN } from './curve.js'
import { z85Encode } from './z85.js'

/** The endpoint libzmq sends ZAP requests to, per context. */
export const ZAP_ENDPOINT = 'inproc://zeromq.zap.01'

/** A connection the handler refused. */
export interface ZapRefusal {
  /** The peer's CURVE public key (Z85), or `''` when it presented none. */
  readonly publicKey: string
  /** The peer's IP address as libzmq reports it (empty for ipc). */
  readonly address: string
  readonly mechanism: string
  /** Why: `not allowed`, `wrong domain`, `not CURVE`, `malformed request`. */
  readonly reason: string
}

export interface ZapHandlerOptions {
  /** Whether a public key (Z85) may connect. Asked on every handshake, so a reloaded allow-list applies to the next one. */
  readonly allows: (publicKey: string) => boolean
  /** Called once per refused connection. Must not throw. */
  readonly onRefused: (refusal: ZapRefusal) => void
  /** For a failure of the handler's own socket; the handler then stops answering (and libzmq refuses every peer). */
  readonly onError?: (error: unknown) => void
}

const VERSION = '1.0'

export class ZapHandler {
  private accepted = 0
  private refused = 0

  private constructor(private readonly router: Router, private readonly options: ZapHandlerOptions) {}

  /** Binds the handler in `context`; the server sockets made in that context afterwards are checked by it. */
  static async start(context: Context, options: ZapHandlerOptions): Promise<ZapHandler> {
    const router = new Router({ context, linger: 0 })
    await router.bind(ZAP_ENDPOINT)
    const handler = new ZapHandler(router, options)
    handler.serve().catch((error: unknown) => options.onError?.(error))
    return handler
  }

  /** Handshakes accepted and refused so far. */
  get counts(): { readonly accepted: number; readonly refused: number } {
    return { accepted: this.accepted, refused: this.refused }
  }

  close(): void {
    this.router.close()
  }

  private async serve(): Promise<void> {
    try {
      for await (const frames of this.router) {
        const reply = this.decide(frames)
        await this.router.send(reply)
      }
    } catch (error) {
      // Closing the socket ends the loop with an error; that is the normal way out.
      if (!this.router.closed) throw error
    }
  }

  /** The reply frames for one request: [routing id, '', version, request id, status, text, user id, metadata]. */
  private decide(frames: Buffer[]): Array<Buffer | string> {
    const [routing, delimiter, version, requestId, domain, address, , mechanism, credentials] = frames
    const answer = (status: '200' | '400' | '500', text: string, userId = ''): Array<Buffer | string> => [
      routing ?? Buffer.alloc(0),
      delimiter ?? Buffer.alloc(0),
      VERSION,
      requestId ?? Buffer.alloc(0),
      status,
      text,
      userId,
      Buffer.alloc(0),
    ]
    const refuse = (reason: string, publicKey = ''): Array<Buffer | string> => {
      this.refused++
      try {
        this.options.onRefused({ publicKey, address: address?.toString('latin1').slice(0, 64) ?? '', mechanism: mechanism?.toString('latin1').slice(0, 16) ?? '', reason })
      } catch (error) {
        this.options.onError?.(new Error(`ZAP onRefused threw: ${errorMessage(error)}`))
      }
      return answer('400', reason)
    }
    if (frames.length < 8 || version?.toString() !== VERSION) return refuse('malformed request')
    if (domain!.toString() !== ZAP_DOMAIN) return refuse('wrong domain')
    if (mechanism!.toString() !== 'CURVE' || credentials === undefined || credentials.length !== 32) return refuse('not CURVE')
    const publicKey = z85Encode(credentials)
    if (!this.options.allows(publicKey)) return refuse('not allowed', publicKey)
    this.accepted++
    return answer('200', 'OK', publicKey)
  }
}
