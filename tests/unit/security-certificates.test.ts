/**
 * ZeroMQ certificates as files: what parses (pyzmq's and czmq's layouts, and
 * the variations its loader accepts), what is refused with a message naming
 * the file, allow-list directories, and writeCertificatePair's modes and its
 * refusal to overwrite anything.
 */
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseCertificate, readAllowList, readCertificate, readSecretCertificate, writeCertificatePair } from '../../src/security/certificates.js'
import { fixtures, type Fixtures } from '../helpers/data.js'

// The zmq_curve man page's key pairs.
const CLIENT = { publicKey: 'Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID', secretKey: 'D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs' }
const SERVER = { publicKey: 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7', secretKey: 'JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6' }

/** A secret certificate exactly as pyzmq 24's create_certificates writes it. */
const PYZMQ_SECRET = `#   ****  Generated on 2024-05-01 10:00:00.000000 by pyzmq  ****
#   ZeroMQ CURVE **Secret** Certificate
#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

metadata
curve
    public-key = "${CLIENT.publicKey}"
    secret-key = "${CLIENT.secretKey}"
`

/** A public certificate as czmq's zcert_save_public writes it, with metadata. */
const CZMQ_PUBLIC = `#   ****  Generated on 2024-05-01 10:00:00 by CZMQ  ****
#   ZeroMQ CURVE Public Certificate
#   Exchange securely, or use a secure mechanism to verify the contents
#   of this file after exchange. Store public certificates in your home
#   directory, in the .curve subdirectory.

metadata
    name = "gateway"
    email = "ops@example.org"
curve
    public-key = "${SERVER.publicKey}"
`

let files: Fixtures
beforeEach(async () => {
  files = await fixtures()
})
afterEach(async () => {
  await files.remove()
})

describe('parseCertificate', () => {
  it("reads pyzmq's secret certificate: both keys", () => {
    expect(parseCertificate(PYZMQ_SECRET, 'client.key_secret')).toEqual({ file: 'client.key_secret', ...CLIENT })
  })

  it("reads czmq's public certificate with metadata: the public key, no secret", () => {
    const certificate = parseCertificate(CZMQ_PUBLIC, 'gateway.key')
    expect(certificate).toEqual({ file: 'gateway.key', publicKey: SERVER.publicKey })
    expect('secretKey' in certificate).toBe(false)
  })

  it.each([
    ['single quotes', `public-key = '${SERVER.publicKey}'`],
    ['no quotes', `public-key = ${SERVER.publicKey}`],
    ['no spaces around =', `public-key="${SERVER.publicKey}"`],
    ['tabs and trailing blanks', `\tpublic-key\t=\t"${SERVER.publicKey}"  \t`],
    ['no section headers at all', `public-key = "${SERVER.publicKey}"`],
  ])('accepts %s, as pyzmq load_certificate does', (_, line) => {
    expect(parseCertificate(`${line}\n`, 'x.key').publicKey).toBe(SERVER.publicKey)
  })

  it('accepts CRLF line ends (a certificate copied through Windows)', () => {
    expect(parseCertificate(PYZMQ_SECRET.replaceAll('\n', '\r\n'), 'c.key_secret')).toMatchObject(CLIENT)
  })

  it('skips comment lines, even one that holds a key', () => {
    const text = `#    public-key = "${CLIENT.publicKey}"\ncurve\n    public-key = "${SERVER.publicKey}"\n`
    expect(parseCertificate(text, 'x.key').publicKey).toBe(SERVER.publicKey)
  })

  it('takes the first public-key and the first secret-key when a file repeats them', () => {
    const text = `public-key = "${SERVER.publicKey}"\nsecret-key = "${SERVER.secretKey}"\npublic-key = "${CLIENT.publicKey}"\nsecret-key = "${CLIENT.secretKey}"\n`
    expect(parseCertificate(text, 'x.key_secret')).toMatchObject(SERVER)
  })

  it.each([
    ['39 characters', SERVER.publicKey.slice(1)],
    ['41 characters', `${SERVER.publicKey}0`],
    ['a character outside Z85', `${SERVER.publicKey.slice(0, 39)},`],
    ['an empty value', ''],
    ['a hex key (64 characters)', 'ab'.repeat(32)],
  ])('refuses a key of %s, naming the file and line', (_, key) => {
    expect(() => parseCertificate(`metadata\ncurve\n    public-key = "${key}"\n`, 'bad.key')).toThrow(
      expect.objectContaining({ name: 'ConfigError', code: 'ERR_CERTIFICATE', message: expect.stringContaining('bad.key:3: public-key is not a 40-character Z85 key') }),
    )
  })

  it('refuses a bad secret-key even when the public key is good', () => {
    expect(() => parseCertificate(`public-key = "${SERVER.publicKey}"\nsecret-key = "short"\n`, 's.key_secret')).toThrow(
      expect.objectContaining({ code: 'ERR_CERTIFICATE', message: expect.stringContaining('s.key_secret:2: secret-key') }),
    )
  })

  it.each([
    ['an empty file', ''],
    ['only comments and sections', '#   ZeroMQ CURVE Public Certificate\nmetadata\ncurve\n'],
    ['a secret key alone', `secret-key = "${SERVER.secretKey}"\n`],
    ['a key named otherwise', `public_key = "${SERVER.publicKey}"\n`],
    ['a bare key, as some tools print it', `${SERVER.publicKey}\n`],
  ])('refuses %s: no public-key line', (_, text) => {
    expect(() => parseCertificate(text, 'none.key')).toThrow(
      expect.objectContaining({ code: 'ERR_CERTIFICATE', message: expect.stringContaining('certificate none.key: no public-key line') }),
    )
  })
})

describe('readCertificate and readSecretCertificate', () => {
  it('read a public and a secret certificate from files', async () => {
    const pub = await files.write('gateway.key', [CZMQ_PUBLIC])
    const secret = await files.write('client.key_secret', [PYZMQ_SECRET])
    await expect(readCertificate(pub)).resolves.toEqual({ file: pub, publicKey: SERVER.publicKey })
    await expect(readSecretCertificate(secret)).resolves.toEqual({ file: secret, ...CLIENT })
    await expect(readCertificate(secret)).resolves.toEqual({ file: secret, ...CLIENT })
  })

  it('readSecretCertificate refuses a public certificate, saying which file to give', async () => {
    const pub = await files.write('gateway.key', [CZMQ_PUBLIC])
    await expect(readSecretCertificate(pub)).rejects.toMatchObject({ code: 'ERR_CERTIFICATE', message: expect.stringContaining(`${pub} has no secret-key: give the NAME.key_secret file`) })
  })

  it.each([
    ['a missing file', async (dir: string) => join(dir, 'missing.key'), 'ENOENT'],
    ['a directory', async (dir: string) => dir, 'not a regular file'],
    [
      'a file over 64 KiB (a log file given by mistake)',
      async (dir: string) => {
        const file = join(dir, 'big.key')
        await writeFile(file, `public-key = "${SERVER.publicKey}"\n${'#'.repeat(70_000)}\n`)
        return file
      },
      '70057 bytes; a certificate is a few hundred',
    ],
  ])('refuses %s with ERR_CERTIFICATE naming it', async (_, make, why) => {
    const file = await make(files.dir)
    await expect(readCertificate(file)).rejects.toMatchObject({ name: 'ConfigError', code: 'ERR_CERTIFICATE', message: expect.stringContaining(`certificate ${file} cannot be read`) })
    await expect(readCertificate(file)).rejects.toMatchObject({ message: expect.stringContaining(why) })
  })
})

describe('readAllowList: the public keys of every *.key in a directory', () => {
  it('reads every *.key and ignores secrets and other files', async () => {
    await files.write('gateway.key', [CZMQ_PUBLIC])
    await files.write('client.key', [`public-key = "${CLIENT.publicKey}"`])
    // A secret certificate of a third key beside them: never part of the list.
    await files.write('third.key_secret', [`public-key = "${'0'.repeat(40)}"`, `secret-key = "${'1'.repeat(40)}"`])
    await files.write('README', ['not a certificate'])
    await files.write('client.key.bak', ['not a certificate either'])
    const keys = await readAllowList(files.dir)
    expect([...keys].sort()).toEqual([CLIENT.publicKey, SERVER.publicKey].sort())
  })

  it('an empty directory is an empty list (nobody may connect)', async () => {
    await expect(readAllowList(files.dir)).resolves.toEqual(new Set())
  })

  it('one key under two names counts once', async () => {
    await files.write('a.key', [`public-key = "${CLIENT.publicKey}"`])
    await files.write('b.key', [PYZMQ_SECRET])
    expect((await readAllowList(files.dir)).size).toBe(1)
  })

  it('a *.key that is not a certificate fails the whole list, naming it: a typo never narrows it silently', async () => {
    await files.write('good.key', [`public-key = "${CLIENT.publicKey}"`])
    const bad = await files.write('typo.key', [`public-key = "${CLIENT.publicKey.slice(2)}"`])
    await expect(readAllowList(files.dir)).rejects.toMatchObject({ code: 'ERR_CERTIFICATE', message: expect.stringContaining(`${bad}:1`) })
  })

  it('a directory named *.key inside fails the list', async () => {
    await files.write('good.key', [`public-key = "${CLIENT.publicKey}"`])
    await mkdir(join(files.dir, 'sub.key'))
    await expect(readAllowList(files.dir)).rejects.toMatchObject({ code: 'ERR_CERTIFICATE', message: expect.stringContaining('not a regular file') })
  })

  it.each([
    ['a missing directory', (dir: string) => join(dir, 'nowhere')],
    ['a file, not a directory', (dir: string) => join(dir, 'file.key')],
  ])('refuses %s with ERR_CERTIFICATE naming it', async (_, path) => {
    await files.write('file.key', [`public-key = "${CLIENT.publicKey}"`])
    const dir = path(files.dir)
    await expect(readAllowList(dir)).rejects.toMatchObject({ code: 'ERR_CERTIFICATE', message: expect.stringContaining(`allow-list ${dir} cannot be read`) })
  })
})

describe('writeCertificatePair', () => {
  const mode = async (file: string): Promise<number> => (await stat(file)).mode & 0o777

  it('writes NAME.key 0644 and NAME.key_secret 0600 in a new directory (0700) and returns what it wrote', async () => {
    const dir = join(files.dir, 'new', 'certs')
    const written = await writeCertificatePair(dir, 'gateway', new Date('2025-01-02T03:04:05Z'))
    expect(written).toEqual({ publicFile: join(dir, 'gateway.key'), secretFile: join(dir, 'gateway.key_secret'), publicKey: expect.any(String) })
    expect(await mode(written.publicFile)).toBe(0o644)
    expect(await mode(written.secretFile)).toBe(0o600)
    expect(await mode(dir)).toBe(0o700)
    expect((await readdir(dir)).sort()).toEqual(['gateway.key', 'gateway.key_secret'])

    const pub = await readCertificate(written.publicFile)
    const secret = await readSecretCertificate(written.secretFile)
    expect(pub.publicKey).toBe(written.publicKey)
    expect(pub.secretKey).toBeUndefined()
    expect(secret.publicKey).toBe(written.publicKey)
    expect(secret.secretKey).not.toBe(written.publicKey)
  })

  it("lays the files out as pyzmq does: banner comments, then metadata, then curve with the quoted keys", async () => {
    const { publicFile, secretFile, publicKey } = await writeCertificatePair(files.dir, 'c', new Date('2025-01-02T03:04:05Z'))
    const pub = await readFile(publicFile, 'utf8')
    const secret = await readFile(secretFile, 'utf8')
    expect(pub).toMatch(/^#   \*\*\*\*  Generated on 2025-01-02T03:04:05\.000Z by zmq-command-gateway  \*\*\*\*\n#   ZeroMQ CURVE Public Certificate\n(#.*\n)*\nmetadata\ncurve\n {4}public-key = "[^"]{40}"\n$/)
    expect(secret).toMatch(/^(#.*\n)+#   ZeroMQ CURVE \*\*Secret\*\* Certificate\n(#.*\n)*\nmetadata\ncurve\n {4}public-key = "[^"]{40}"\n {4}secret-key = "[^"]{40}"\n$/)
    expect(pub).toContain(publicKey)
  })

  it('keeps the modes whatever the umask: 0644 under umask 077, 0600 under umask 000', async () => {
    const before = process.umask(0o077)
    try {
      const { publicFile } = await writeCertificatePair(files.dir, 'narrow')
      expect(await mode(publicFile)).toBe(0o644)
      process.umask(0)
      const { secretFile } = await writeCertificatePair(files.dir, 'wide')
      expect(await mode(secretFile)).toBe(0o600)
    } finally {
      process.umask(before)
    }
  })

  it('makes a new key pair on every call', async () => {
    const a = await writeCertificatePair(files.dir, 'a')
    const b = await writeCertificatePair(files.dir, 'b')
    expect(a.publicKey).not.toBe(b.publicKey)
  })

  it('refuses to overwrite NAME.key_secret and leaves both files as they were', async () => {
    const first = await writeCertificatePair(files.dir, 'gw')
    const [pub, secret] = await Promise.all([readFile(first.publicFile, 'utf8'), readFile(first.secretFile, 'utf8')])
    await expect(writeCertificatePair(files.dir, 'gw')).rejects.toMatchObject({
      name: 'ConfigError',
      code: 'ERR_CERTIFICATE',
      message: `${first.secretFile} already exists: a certificate is never overwritten`,
    })
    expect(await readFile(first.publicFile, 'utf8')).toBe(pub)
    expect(await readFile(first.secretFile, 'utf8')).toBe(secret)
  })

  it('refuses when only NAME.key exists (a pyzmq public certificate) and creates no NAME.key_secret', async () => {
    const existing = await files.write('peer.key', [CZMQ_PUBLIC])
    await expect(writeCertificatePair(files.dir, 'peer')).rejects.toMatchObject({ code: 'ERR_CERTIFICATE', message: expect.stringContaining(`${existing} already exists`) })
    expect(await readdir(files.dir)).toEqual(['peer.key'])
    expect(await readFile(existing, 'utf8')).toBe(`${CZMQ_PUBLIC}\n`)
  })

  it('refuses when only NAME.key_secret exists and creates no NAME.key', async () => {
    const existing = await files.write('peer.key_secret', [PYZMQ_SECRET])
    await expect(writeCertificatePair(files.dir, 'peer')).rejects.toMatchObject({ code: 'ERR_CERTIFICATE' })
    expect(await readdir(files.dir)).toEqual(['peer.key_secret'])
    expect(await readFile(existing, 'utf8')).toBe(`${PYZMQ_SECRET}\n`)
  })

  it.each([[''], ['.hidden'], ['..'], ['a/b'], ['../escape'], ['sp ace'], ['x'.repeat(129)], ['naïve']])('refuses the name %j and writes nothing', async (name) => {
    const dir = join(files.dir, 'certs')
    await expect(writeCertificatePair(dir, name)).rejects.toMatchObject({ name: 'ConfigError', code: 'ERR_INVALID_OPTION' })
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' })
    expect(await readdir(files.dir)).toEqual([])
  })

  it('refuses a DIR that cannot be made (a file is in the way) with ERR_CERTIFICATE', async () => {
    const file = await files.write('plain', ['x'])
    await expect(writeCertificatePair(join(file, 'sub'), 'gw')).rejects.toMatchObject({ code: 'ERR_CERTIFICATE', message: expect.stringContaining(`cannot create the directory ${join(file, 'sub')}`) })
  })
})
