/**
 * Socket options for CURVE (ZeroMQ RFC 26) as CGP/1's security section uses
 * it: every server socket is a CURVE server with ZAP domain `cgw`; every
 * connecting socket is a CURVE client that knows its server's public key.
 * The options are plain objects handed to zeromq.js socket constructors.
 */

/** The ZAP domain of every CGP/1 server socket (protocol.md, Security). */
export const ZAP_DOMAIN = 'cgw'

/** A key pair, Z85, as read from a `NAME.key_secret` certificate. */
export interface CurveIdentity {
  readonly publicKey: string
  readonly secretKey: string
}

export interface CurveServerSocketOptions {
  readonly curveServer: true
  readonly curvePublicKey: string
  readonly curveSecretKey: string
  readonly zapDomain: string
}

export interface CurveClientSocketOptions {
  readonly curveServerKey: string
  readonly curvePublicKey: string
  readonly curveSecretKey: string
}

/** Options that make a bound socket a CURVE server on `identity`, checked by the ZAP handler of its context. */
export function curveServerOptions(identity: CurveIdentity): CurveServerSocketOptions {
  return { curveServer: true, curvePublicKey: identity.publicKey, curveSecretKey: identity.secretKey, zapDomain: ZAP_DOMAIN }
}

/** Options that make a connecting socket a CURVE client of the server whose public key is `serverKey`. */
export function curveClientOptions(identity: CurveIdentity, serverKey: string): CurveClientSocketOptions {
  return { curveServerKey: serverKey, curvePublicKey: identity.publicKey, curveSecretKey: identity.secretKey }
}
