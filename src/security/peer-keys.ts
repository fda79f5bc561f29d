/**
 * The keys of a process that connects to a gateway over CURVE (a client, a
 * worker, an operator's status request), read from the files its options
 * name: its own secret certificate (`curveSecret`) and the gateway's public
 * one (`serverKey`). Read synchronously, so a constructor can refuse a bad
 * file at once, as it refuses any other bad option: these are two small
 * local files read once at start. Errors name the flag and the file; key
 * material never appears in a message.
 */
import { readFileSync, statSync } from 'node:fs'
import { ConfigError, errorMessage } from '../errors.js'
import { parseCertificate, type Certificate } from './certificates.js'
import type { CurveIdentity } from './curve.js'

/** As certificates.ts bounds it: a wrong path (a log file, /dev/zero) fails fast. */
const MAX_CERTIFICATE_BYTES = 64 * 1024

/** A connecting process's CURVE keys: its own pair, and its gateways' public keys. */
export interface PeerKeys {
  readonly identity: CurveIdentity
  /** The certificate file the identity came from, for logs. */
  readonly identityFile: string
  /** One public key per server, in the order of the servers. */
  readonly serverKeys: readonly string[]
}

/** The CURVE options of a connecting role, as its schema names them. */
export interface PeerKeyOptions {
  readonly curveSecret?: string
  /** One file for every server, or one per server in order. */
  readonly serverKey?: string | readonly string[]
}

/** Reads a certificate synchronously; throws {@link ConfigError} `ERR_CERTIFICATE` naming `flag` and the file. */
export function readCertificateSync(file: string, flag: string): Certificate {
  let text: string
  try {
    const info = statSync(file)
    if (!info.isFile()) throw new Error('not a regular file')
    if (info.size > MAX_CERTIFICATE_BYTES) throw new Error(`${info.size} bytes; a certificate is a few hundred`)
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError('ERR_CERTIFICATE', `--${flag}: certificate ${file} cannot be read: ${errorMessage(error)}`, { cause: error })
  }
  try {
    return parseCertificate(text, file)
  } catch (error) {
    throw new ConfigError('ERR_CERTIFICATE', `--${flag}: ${errorMessage(error)}`, { cause: error })
  }
}

/** This process's own key pair from its `NAME.key_secret`; a public `NAME.key` is refused, naming the file. */
export function readIdentitySync(file: string, flag = 'curve-secret'): CurveIdentity {
  const certificate = readCertificateSync(file, flag)
  if (certificate.secretKey === undefined) {
    throw new ConfigError('ERR_CERTIFICATE', `--${flag}: certificate ${file} has no secret-key: give this process's NAME.key_secret, not a public NAME.key`)
  }
  return { publicKey: certificate.publicKey, secretKey: certificate.secretKey }
}

function listOf(value: string | readonly string[] | undefined): readonly string[] {
  return value === undefined ? [] : typeof value === 'string' ? [value] : value
}

/**
 * The keys of a process that connects to `servers` gateways, or `undefined`
 * when neither option is given (plaintext). `--curve-secret` and
 * `--server-key` go together; `--server-key` names one file for every server
 * or one per server, in order. Throws {@link ConfigError} naming the flags,
 * or the file that is not a certificate of the right kind.
 */
export function readPeerKeys(options: PeerKeyOptions, servers = 1): PeerKeys | undefined {
  const files = listOf(options.serverKey)
  if (options.curveSecret === undefined && files.length === 0) return undefined
  if (options.curveSecret === undefined) {
    throw new ConfigError('ERR_INVALID_OPTION', "--server-key needs --curve-secret: this process's own certificate (NAME.key_secret) turns CURVE on")
  }
  if (files.length === 0) {
    throw new ConfigError('ERR_INVALID_OPTION', `--curve-secret ${options.curveSecret} needs --server-key: the gateway's public certificate (NAME.key)`)
  }
  if (files.length !== 1 && files.length !== servers) {
    throw new ConfigError(
      'ERR_INVALID_OPTION',
      `--server-key names ${files.length} certificates for ${servers} servers: give one for all of them, or one per --server in the same order`,
    )
  }
  const identity = readIdentitySync(options.curveSecret)
  const keys = files.map((file) => readCertificateSync(file, 'server-key').publicKey)
  const serverKeys = keys.length === servers ? keys : new Array<string>(servers).fill(keys[0]!)
  return { identity, identityFile: options.curveSecret, serverKeys }
}
