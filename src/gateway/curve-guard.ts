/**
 * CURVE on the gateway's bound sockets (protocol.md, Security). Each port,
 * the intake, the worker port and the status port, is a CURVE server on the
 * gateway's certificate in a zeromq Context of its own, with its own ZAP
 * handler and allow-list, so one ZAP domain (`cgw`) serves three different
 * lists: clients on the intake, workers (and the gateway's own key, which its
 * forked workers present) on the worker port, operators on the status port.
 *
 * A peer is refused before any of its messages arrives: by the ZAP handler
 * when its key is not listed, by the CURVE handshake itself when it speaks
 * plaintext or has the wrong server key. Both count in `refused` per port and
 * go to a rate-limited log, with the key and address where libzmq gives them.
 */
import { Context, type Socket } from 'zeromq'
import { errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import { AllowList, type AllowListReload } from '../security/allow-list.js'
import { readSecretCertificate } from '../security/certificates.js'
import { curveServerOptions, type CurveIdentity } from '../security/curve.js'
import { ZapHandler, type ZapRefusal } from '../security/zap.js'
import type { LineLog } from './ports.js'

/** The gateway's bound sockets, as `refused` counts them. */
export type PortName = 'intake' | 'workers' | 'status'

/** Handshakes refused per port. */
export type RefusalCounts = Record<PortName, number>

export interface CurveGuardOptions {
  /** The gateway's NAME.key_secret. */
  readonly curveSecret: string
  readonly clientsAllow?: string
  readonly workersAllow?: string
  readonly adminsAllow?: string
}

/** The keys allowed per port, as the status view and the start log show them. */
export interface AllowListSizes {
  readonly clients: number
  readonly workers: number
  readonly admins: number
}

/** What the handshake's own failures mean, for the log (ZAP refusals say it themselves). */
const HANDSHAKE_REASONS: Readonly<Record<string, string>> = {
  ERR_ZMTP_MECHANISM_MISMATCH: 'not CURVE (a plaintext peer)',
  ERR_ZMTP_CRYPTOGRAPHIC: 'CURVE handshake failed (the peer has another server key?)',
}

/** A handshake the peer ended before it was done: a plaintext peer that saw the mismatch first, or one that left. */
function brokenOff(code: string): string {
  return `handshake broken off (${code}): a plaintext peer, or one that left`
}

export class CurveGuard {
  private readonly contexts = new Map<PortName, Context>()
  private readonly lists = new Map<PortName, AllowList>()
  private readonly zaps: ZapHandler[] = []
  private identity: CurveIdentity | undefined

  constructor(
    private readonly options: CurveGuardOptions,
    private readonly counts: RefusalCounts,
    private readonly log: LineLog,
    private readonly logger: Logger,
  ) {}

  /** The context the socket of `port` must be made in; {@link start} binds its ZAP handler there. */
  context(port: PortName): Context {
    let context = this.contexts.get(port)
    if (context === undefined) this.contexts.set(port, (context = new Context()))
    return context
  }

  /** The gateway's key pair, once {@link start} has read it. */
  get curve(): CurveIdentity {
    if (this.identity === undefined) throw new Error('CURVE guard not started')
    return this.identity
  }

  /**
   * Reads the certificate and the allow-lists, and binds a ZAP handler in
   * every context handed out by {@link context}. It must run before any of
   * their sockets binds: libzmq lets every CURVE key in while a context has
   * no handler (sockets set `zapEnforceDomain` as well, so they refuse then).
   * Throws ConfigError `ERR_CERTIFICATE` naming the file or directory.
   */
  async start(): Promise<void> {
    const certificate = await readSecretCertificate(this.options.curveSecret)
    const identity = { publicKey: certificate.publicKey, secretKey: certificate.secretKey }
    for (const [port, context] of this.contexts) {
      const list = await AllowList.read(this.dirOf(port), port === 'workers' ? [identity.publicKey] : [])
      this.lists.set(port, list)
      if (list.dir !== undefined && list.size === 0) this.logger.warn({ port, dir: list.dir }, 'allow-list is empty: no one may connect to this port')
      const zap = await ZapHandler.start(context, {
        allows: (key) => list.allows(key),
        onRefused: (refusal) => this.refused(port, refusal),
        onError: (error) => this.logger.error({ port, err: errorMessage(error) }, 'ZAP handler failed: this port now refuses every peer'),
      })
      this.zaps.push(zap)
    }
    this.identity = identity
  }

  /** Makes `socket` (made in {@link context}`(port)`, not bound yet) a CURVE server, and counts its failed handshakes. */
  secure(port: PortName, socket: Socket): void {
    // Socket options are setters; zapEnforceDomain refuses every peer should the ZAP handler ever be missing.
    Object.assign(socket, { ...curveServerOptions(this.curve), zapEnforceDomain: true })
    const failed = (code: string, endpoint: string): void =>
      this.refused(port, { publicKey: '', address: '', mechanism: '', reason: HANDSHAKE_REASONS[code] ?? code }, endpoint)
    socket.events.on('handshake:error:protocol', (event) => failed(event.error.code, event.address))
    // A plaintext peer sees the mismatch too and may hang up first: then this side sees EPIPE or ECONNRESET.
    socket.events.on('handshake:error:other', (event) => failed(brokenOff(event.error.code), event.address))
  }

  /** Keys allowed per port (the worker port's count leaves out the gateway's own key). */
  sizes(): AllowListSizes {
    return { clients: this.lists.get('intake')?.size ?? 0, workers: this.lists.get('workers')?.size ?? 0, admins: this.lists.get('status')?.size ?? 0 }
  }

  /**
   * Reads every allow-list directory again and logs what changed. A list
   * that fails to read keeps its keys, and the error is logged. New
   * handshakes use the new lists; connections already made stay.
   */
  async reload(): Promise<AllowListReload[]> {
    const outcomes: AllowListReload[] = []
    for (const [port, list] of this.lists) {
      const outcome = await list.reload()
      if (outcome === undefined) continue
      outcomes.push(outcome)
      if (outcome.ok) this.logger.info({ port, ...outcome }, 'allow-list re-read')
      else this.logger.error({ port, dir: outcome.dir, kept: outcome.keys, err: outcome.error }, 'allow-list not re-read; the old one stays')
    }
    return outcomes
  }

  /** Unbinds the ZAP handlers; close the ports' sockets first, so none of them is ever left without one. */
  close(): void {
    for (const zap of this.zaps.splice(0)) zap.close()
  }

  private dirOf(port: PortName): string | undefined {
    if (port === 'intake') return this.options.clientsAllow
    if (port === 'workers') return this.options.workersAllow
    return this.options.adminsAllow
  }

  private refused(port: PortName, refusal: ZapRefusal, endpoint?: string): void {
    this.counts[port]++
    const fields = {
      port,
      ...(refusal.publicKey === '' ? {} : { key: refusal.publicKey }),
      ...(refusal.address === '' ? {} : { address: refusal.address }),
      ...(endpoint === undefined ? {} : { endpoint }),
      reason: refusal.reason,
    }
    this.log.warn(fields, 'connection refused')
  }
}
