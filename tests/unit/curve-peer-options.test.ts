/**
 * CURVE on the connecting side, without sockets: the `replyKey` field of a
 * task (protocol.md, Security) as every reader validates it, and the
 * options that name a process's certificates (`--curve-secret`,
 * `--server-key`, `--workers-allow`) as the library and the schemas read them.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { curveKeyPair } from 'zeromq'
import { decodeTrusted, encode } from '../../src/protocol/codec.js'
import { isCurveKey } from '../../src/protocol/curve-key.js'
import { taskFrame } from '../../src/protocol/frames.js'
import { validateGatewayHeader, validateIntakeHeader } from '../../src/protocol/validate.js'
import { isZ85Key } from '../../src/security/z85.js'
import { writeCertificatePair } from '../../src/security/certificates.js'
import { readIdentitySync, readPeerKeys } from '../../src/security/peer-keys.js'
import { resolveClientOptions } from '../../src/client/options.js'
import { clientSchema } from '../../src/options/client.js'
import { readEnv } from '../../src/options/env.js'
import { readConfigFile } from '../../src/options/config-file.js'
import { fixtures, type Fixtures } from '../helpers/data.js'

const REPLY_TO = 'tcp://127.0.0.1:5556'
const KEY = curveKeyPair().publicKey
const task = (extra: Record<string, unknown>): Buffer => encode({ v: 1, type: 'task', id: '1', client: 'c', replyTo: REPLY_TO, attempt: 1, ...extra })

describe('a task header with a replyKey', () => {
  it('is built by taskFrame only when a key is given, never as nil', () => {
    expect(validateIntakeHeader(taskFrame('1', 'c', REPLY_TO, 1, KEY))).toEqual({
      ok: true,
      header: { v: 1, type: 'task', id: '1', client: 'c', replyTo: REPLY_TO, attempt: 1, replyKey: KEY },
    })
    const frame = taskFrame('1', 'c', REPLY_TO, 1)
    // On the wire: no replyKey key at all (nil would be a malformed key to every reader).
    expect(Object.keys(decodeTrusted(frame) as object)).not.toContain('replyKey')
    const plain = validateIntakeHeader(frame)
    expect(plain).toMatchObject({ ok: true, header: { type: 'task', replyKey: undefined } })
  })

  it.each([
    { reader: 'the gateway intake', validate: validateIntakeHeader },
    { reader: 'a worker', validate: validateGatewayHeader },
  ])('$reader accepts a 40-character Z85 key', ({ validate }) => {
    expect(validate(task({ replyKey: KEY }))).toMatchObject({ ok: true, header: { replyKey: KEY } })
  })

  it.each([
    { what: '39 characters', replyKey: KEY.slice(1) },
    { what: '41 characters', replyKey: `${KEY}0` },
    { what: 'a character outside Z85 (a quote)', replyKey: `${KEY.slice(1)}"` },
    { what: 'a character outside Z85 (a space)', replyKey: `${KEY.slice(1)} ` },
    { what: 'a non-ASCII character', replyKey: `${KEY.slice(1)}é` },
    { what: 'nil', replyKey: null },
    { what: 'an integer', replyKey: 40 },
    { what: 'the 32 raw key bytes', replyKey: Buffer.alloc(32, 7) },
    { what: 'an empty string', replyKey: '' },
  ])('is malformed, answerable to its replyTo, when the key is $what', ({ replyKey }) => {
    for (const validate of [validateIntakeHeader, validateGatewayHeader]) {
      const result = validate(task({ replyKey }))
      expect(result.ok).toBe(false)
      expect(result).toMatchObject({ replyTo: REPLY_TO, id: '1', client: 'c' })
      if (!result.ok) expect(result.reason).toMatch(/^header "replyKey" must be a CURVE public key: 40 characters of Z85, got /)
    }
  })

  it("the protocol layer's own key check agrees with src/security's on every character", () => {
    const base = KEY.slice(1)
    for (let code = 0; code < 256; code++) {
      const candidate = base + String.fromCharCode(code)
      expect(isCurveKey(candidate)).toBe(isZ85Key(candidate))
    }
    for (let i = 0; i < 50; i++) expect(isCurveKey(curveKeyPair().publicKey)).toBe(true)
  })
})

describe('the certificate options of a connecting process', () => {
  let files: Fixtures
  let client: { publicFile: string; secretFile: string; publicKey: string }
  let gw1: { publicFile: string; secretFile: string; publicKey: string }
  let gw2: { publicFile: string; secretFile: string; publicKey: string }

  beforeEach(async () => {
    files = await fixtures()
    client = await writeCertificatePair(files.dir, 'client')
    gw1 = await writeCertificatePair(files.dir, 'gw1')
    gw2 = await writeCertificatePair(files.dir, 'gw2')
  })

  afterEach(() => files.remove())

  it('reads nothing and means plaintext when neither is given', () => {
    expect(readPeerKeys({}, 3)).toBeUndefined()
  })

  it('one server key serves every server; one per server keeps their order', () => {
    const one = readPeerKeys({ curveSecret: client.secretFile, serverKey: gw1.publicFile }, 3)!
    expect(one.identity.publicKey).toBe(client.publicKey)
    expect(one.identity.secretKey).toHaveLength(40)
    expect(one.serverKeys).toEqual([gw1.publicKey, gw1.publicKey, gw1.publicKey])
    expect(readPeerKeys({ curveSecret: client.secretFile, serverKey: [gw2.publicFile, gw1.publicFile] }, 2)!.serverKeys).toEqual([gw2.publicKey, gw1.publicKey])
  })

  it('a secret certificate given as a server key gives its public key (what a forked worker does)', () => {
    expect(readPeerKeys({ curveSecret: gw1.secretFile, serverKey: gw1.secretFile })!.serverKeys).toEqual([gw1.publicKey])
  })

  it.each([
    { what: '--curve-secret alone', options: () => ({ curveSecret: client.secretFile }), message: /^--curve-secret .*client\.key_secret needs --server-key: the gateway's public certificate/ },
    { what: '--server-key alone', options: () => ({ serverKey: gw1.publicFile }), message: /^--server-key needs --curve-secret/ },
    {
      what: 'three server keys for two servers',
      options: () => ({ curveSecret: client.secretFile, serverKey: [gw1.publicFile, gw2.publicFile, gw1.publicFile] }),
      message: /^--server-key names 3 certificates for 2 servers: give one for all of them, or one per --server in the same order/,
    },
  ])('refuses $what, naming the flags', ({ options, message }) => {
    expect(() => readPeerKeys(options(), 2)).toThrow(expect.objectContaining({ name: 'ConfigError', code: 'ERR_INVALID_OPTION', message: expect.stringMatching(message) }))
  })

  it('refuses a public NAME.key as --curve-secret, naming the flag and the file', () => {
    expect(() => readPeerKeys({ curveSecret: client.publicFile, serverKey: gw1.publicFile })).toThrow(
      expect.objectContaining({ code: 'ERR_CERTIFICATE', message: `--curve-secret: certificate ${client.publicFile} has no secret-key: give this process's NAME.key_secret, not a public NAME.key` }),
    )
  })

  it('refuses a file that is not a certificate, and one that does not exist, naming the flag and the file', async () => {
    const notOne = await files.write('notes.txt', ['just some text', 'key = 1'])
    expect(() => readPeerKeys({ curveSecret: client.secretFile, serverKey: notOne })).toThrow(
      expect.objectContaining({ code: 'ERR_CERTIFICATE', message: expect.stringMatching(new RegExp(`^--server-key: certificate ${notOne}: no public-key line`)) }),
    )
    const missing = join(files.dir, 'missing.key_secret')
    expect(() => readIdentitySync(missing)).toThrow(expect.objectContaining({ code: 'ERR_CERTIFICATE', message: expect.stringContaining(`--curve-secret: certificate ${missing} cannot be read: ENOENT`) }))
    const dir = join(files.dir, 'a-directory')
    await mkdir(dir)
    expect(() => readIdentitySync(dir)).toThrow(expect.objectContaining({ message: `--curve-secret: certificate ${dir} cannot be read: not a regular file` }))
  })

  it('never puts a secret key in a message', async () => {
    const secretText = await import('node:fs/promises').then((fs) => fs.readFile(client.secretFile, 'utf8'))
    const secret = /secret-key = "(.{40})"/.exec(secretText)![1]!
    // A secret file whose public line is broken: the message quotes the file's line number, not its text.
    const broken = await files.write('broken.key_secret', [`    public-key = "short"`, `    secret-key = "${secret}"`])
    await chmod(broken, 0o600)
    let message = ''
    try {
      readIdentitySync(broken)
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toContain(broken)
    expect(message).not.toContain(secret)
  })

  it('the client: --workers-allow needs --curve-secret; the schema reads server keys from the flag, the environment and a config file', async () => {
    expect(() => resolveClientOptions({ workersAllow: files.dir })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/^--workers-allow .* needs --curve-secret/) }))
    expect(resolveClientOptions({ curveSecret: client.secretFile, serverKey: gw1.publicFile }).serverKey).toEqual([gw1.publicFile])
    expect(readEnv(clientSchema, { CGW_SERVER_KEY: `${gw1.publicFile},${gw2.publicFile}`, CGW_WORKERS_ALLOW: files.dir }).values).toEqual({
      serverKey: [gw1.publicFile, gw2.publicFile],
      workersAllow: files.dir,
    })
    const config = join(files.dir, 'client.toml')
    await writeFile(config, `curve-secret = "${client.secretFile}"\nserver-key = ["${gw1.publicFile}", "${gw2.publicFile}"]\n`)
    expect(readConfigFile(clientSchema, config, 'run-client')).toEqual({ curveSecret: client.secretFile, serverKey: [gw1.publicFile, gw2.publicFile] })
    await writeFile(config, 'server-key = []\n')
    expect(() => readConfigFile(clientSchema, config, 'run-client')).toThrow(/server-key must be one or more certificate files/)
  })
})
