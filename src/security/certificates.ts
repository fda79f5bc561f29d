/**
 * CURVE certificates in ZeroMQ's certificate format, the one pyzmq's
 * `zmq.auth.create_certificates` writes and `zmq.auth.load_certificate`
 * reads: a public `NAME.key` and a secret `NAME.key_secret`, text files with
 * `#` comments, a `metadata` section and a `curve` section holding
 * `public-key = "…"` (and `secret-key = "…"`), Z85.
 *
 * An allow-list is a directory of public certificates: every `*.key` in it.
 */
import { chmod, mkdir, open, readdir, readFile, rm, stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { curveKeyPair } from 'zeromq'
import { ConfigError, errorMessage } from '../errors.js'
import { isZ85Key } from './z85.js'

/** A certificate as read: the public key, and the secret key if the file holds one. */
export interface Certificate {
  readonly file: string
  readonly publicKey: string
  readonly secretKey?: string
}

/** Bounds, so a wrong path (a log file, /dev/zero) fails fast instead of filling memory. */
const MAX_CERTIFICATE_BYTES = 64 * 1024
const MAX_ALLOW_LIST_FILES = 100_000

/**
 * Reads a certificate. Like pyzmq's loader it takes the first `public-key`
 * and `secret-key` lines outside comments; unlike it, it checks each key is
 * 40 Z85 characters. Throws {@link ConfigError} `ERR_CERTIFICATE` naming the file.
 */
export async function readCertificate(file: string): Promise<Certificate> {
  let text: string
  try {
    const info = await stat(file)
    if (!info.isFile()) throw new Error('not a regular file')
    if (info.size > MAX_CERTIFICATE_BYTES) throw new Error(`${info.size} bytes; a certificate is a few hundred`)
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new ConfigError('ERR_CERTIFICATE', `certificate ${file} cannot be read: ${errorMessage(error)}`, { cause: error })
  }
  return parseCertificate(text, file)
}

/** The keys in a certificate's text; `file` is for messages. */
export function parseCertificate(text: string, file: string): Certificate {
  let publicKey: string | undefined
  let secretKey: string | undefined
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line.startsWith('#')) continue
    const match = /^(public-key|secret-key)\s*=\s*(.*)$/.exec(line)
    if (match === null) continue
    const value = match[2]!.replace(/^["']|["']$/g, '')
    if (!isZ85Key(value)) throw new ConfigError('ERR_CERTIFICATE', `certificate ${file}:${i + 1}: ${match[1]} is not a 40-character Z85 key`)
    if (match[1] === 'public-key') publicKey ??= value
    else secretKey ??= value
  }
  if (publicKey === undefined) throw new ConfigError('ERR_CERTIFICATE', `certificate ${file}: no public-key line (expected ZeroMQ's certificate format, as gateway-keygen or pyzmq write it)`)
  return secretKey === undefined ? { file, publicKey } : { file, publicKey, secretKey }
}

/** Reads a secret certificate (`NAME.key_secret`): its public and secret keys. */
export async function readSecretCertificate(file: string): Promise<Required<Certificate>> {
  const certificate = await readCertificate(file)
  if (certificate.secretKey === undefined) {
    throw new ConfigError('ERR_CERTIFICATE', `certificate ${file} has no secret-key: give the NAME.key_secret file, not the public NAME.key`)
  }
  return certificate as Required<Certificate>
}

/**
 * The public keys of every `*.key` file in `dir` (an allow-list). Files with
 * other names are ignored (`NAME.key_secret` included); a `*.key` file that is
 * not a certificate is an error naming it, so a typo never silently narrows
 * the list.
 */
export async function readAllowList(dir: string): Promise<ReadonlySet<string>> {
  let names: string[]
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.key')).sort()
  } catch (error) {
    throw new ConfigError('ERR_CERTIFICATE', `allow-list ${dir} cannot be read: ${errorMessage(error)}`, { cause: error })
  }
  if (names.length > MAX_ALLOW_LIST_FILES) throw new ConfigError('ERR_CERTIFICATE', `allow-list ${dir}: ${names.length} certificates, more than ${MAX_ALLOW_LIST_FILES}`)
  const keys = new Set<string>()
  for (const name of names) keys.add((await readCertificate(join(dir, name))).publicKey)
  return keys
}

function banner(kind: 'Public' | '**Secret**', now: Date): string {
  const advice =
    kind === 'Public'
      ? '#   Exchange securely, or use a secure mechanism to verify the contents\n#   of this file after exchange. Store public certificates in your home\n#   directory, in the .curve subdirectory.\n'
      : '#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n'
  return `#   ****  Generated on ${now.toISOString()} by zmq-command-gateway  ****\n#   ZeroMQ CURVE ${kind} Certificate\n${advice}\nmetadata\ncurve\n`
}

/**
 * Makes a new key pair and writes `DIR/NAME.key` (public, mode 0644) and
 * `DIR/NAME.key_secret` (mode 0600), creating `DIR` (0700) if needed. Refuses
 * to overwrite either file: if either exists it writes nothing (ConfigError
 * `ERR_CERTIFICATE`). Returns both paths and the public key.
 */
export async function writeCertificatePair(dir: string, name: string, now: Date = new Date()): Promise<{ publicFile: string; secretFile: string; publicKey: string }> {
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(name) || name.startsWith('.')) {
    throw new ConfigError('ERR_INVALID_OPTION', `certificate name ${JSON.stringify(name)} must be 1–128 characters of [A-Za-z0-9_.-], not starting with a dot`)
  }
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
  } catch (error) {
    throw new ConfigError('ERR_CERTIFICATE', `cannot create the directory ${dir}: ${errorMessage(error)}`, { cause: error })
  }
  const { publicKey, secretKey } = curveKeyPair()
  const publicFile = join(dir, `${name}.key`)
  const secretFile = join(dir, `${name}.key_secret`)
  // Both created ('wx': never over an existing file) before either is written, the
  // secret 0600 from the start: an existing NAME.key leaves no stray new secret behind.
  const secret = await createNew(secretFile, 0o600)
  let pub: FileHandle
  try {
    pub = await createNew(publicFile, 0o644)
  } catch (error) {
    await secret.close()
    await rm(secretFile, { force: true })
    throw error
  }
  try {
    await fill(secret, secretFile, `${banner('**Secret**', now)}    public-key = "${publicKey}"\n    secret-key = "${secretKey}"\n`, 0o600)
  } catch (error) {
    await pub.close()
    throw error
  }
  await fill(pub, publicFile, `${banner('Public', now)}    public-key = "${publicKey}"\n`, 0o644)
  return { publicFile, secretFile, publicKey }
}

async function createNew(file: string, mode: number): Promise<FileHandle> {
  try {
    return await open(file, 'wx', mode)
  } catch (error) {
    const exists = (error as NodeJS.ErrnoException).code === 'EEXIST'
    throw new ConfigError('ERR_CERTIFICATE', exists ? `${file} already exists: a certificate is never overwritten` : `cannot create ${file}: ${errorMessage(error)}`, { cause: error })
  }
}

async function fill(handle: FileHandle, file: string, text: string, mode: number): Promise<void> {
  try {
    await handle.writeFile(text)
    await chmod(file, mode) // the umask may have narrowed 0644; the secret stays 0600 either way
  } finally {
    await handle.close()
  }
}
