/**
 * Interop with pyzmq (Debian's python3-zmq, which .ci/run installs):
 * certificates that zmq.auth.create_certificates makes are read by ours with
 * the keys pyzmq's load_certificate returns, ours (made by gateway-keygen) are
 * read by pyzmq with the keys we printed, and a CURVE handshake over
 * 127.0.0.1 works both ways between a pyzmq socket on our certificate and a
 * zeromq.js socket on pyzmq's, each side's allow-list read by its own code.
 */
import { spawn, spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Context, Pull, Push } from 'zeromq'
import { readAllowList, readCertificate, readSecretCertificate } from '../../src/security/certificates.js'
import { curveClientOptions, curveServerOptions } from '../../src/security/curve.js'
import { ZapHandler, type ZapRefusal } from '../../src/security/zap.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { ROOT, expectAllGone, waitFor } from '../helpers/processes.js'

const PYTHON = '/usr/bin/python3'
const PEER = `${ROOT}tests/fixtures/python/curve_peer.py`

interface Python {
  readonly pid: number
  /** The JSON lines printed so far. */
  lines(): unknown[]
  stderr(): string
  readonly exited: Promise<number | null>
}

let files: Fixtures
let pids: number[] = []
let closers: Array<() => void> = []

beforeAll(() => {
  const probe = spawnSync(PYTHON, ['-c', 'import zmq, zmq.auth; assert zmq.has("curve")'], { encoding: 'utf8' })
  if (probe.status !== 0) throw new Error(`these tests need pyzmq with CURVE for ${PYTHON}: apt-get install python3-zmq (.ci/run does)\n${probe.stderr ?? probe.error}`)
})
beforeEach(async () => {
  files = await fixtures()
})
afterEach(async () => {
  for (const close of closers) close()
  closers = []
  await expectAllGone(pids.splice(0), 10_000)
  await files.remove()
})

function python(...args: string[]): Python {
  const child = spawn(PYTHON, [PEER, ...args], { cwd: files.dir, stdio: ['ignore', 'pipe', 'pipe'] })
  pids.push(child.pid!)
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
  return {
    pid: child.pid!,
    lines: () => out.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as unknown),
    stderr: () => err,
    exited,
  }
}

/** Runs a mode to its end and returns its one JSON line. */
async function pythonJson<T>(...args: string[]): Promise<T> {
  const run = python(...args)
  const code = await run.exited
  expect(code, run.stderr()).toBe(0)
  return run.lines().at(-1) as T
}

interface PyCertificate {
  publicFile: string
  secretFile: string
  publicKey: string
  secretKey: string
}
type PyLoaded = Array<{ publicKey: string; secretKey: string | null }>

/** Ours, made the way an operator makes them: the gateway-keygen CLI. Returns the key it printed. */
async function keygen(dir: string, name: string): Promise<{ publicFile: string; secretFile: string; publicKey: string }> {
  const child = spawn(process.execPath, [`${ROOT}bin/gateway-keygen.js`, dir, name], { cwd: files.dir, stdio: ['ignore', 'pipe', 'pipe'] })
  pids.push(child.pid!)
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
  expect(await new Promise((resolve) => child.once('close', resolve))).toBe(0)
  const publicKey = /^key {5}(\S{40})$/m.exec(out)?.[1]
  expect(publicKey, out).toBeDefined()
  return { publicFile: join(files.dir, dir, `${name}.key`), secretFile: join(files.dir, dir, `${name}.key_secret`), publicKey: publicKey! }
}

describe("pyzmq's certificates, read by ours", () => {
  it('readCertificate, readSecretCertificate and readAllowList give the keys pyzmq made and loads', async () => {
    const a = await pythonJson<PyCertificate>('create', files.dir, 'alice')
    const b = await pythonJson<PyCertificate>('create', files.dir, 'bob')
    const loaded = await pythonJson<PyLoaded>('load', a.publicFile, a.secretFile)
    expect(loaded).toEqual([
      { publicKey: a.publicKey, secretKey: null },
      { publicKey: a.publicKey, secretKey: a.secretKey },
    ])

    expect(await readCertificate(resolve(files.dir, a.publicFile))).toEqual({ file: resolve(files.dir, a.publicFile), publicKey: a.publicKey })
    expect(await readSecretCertificate(resolve(files.dir, a.secretFile))).toMatchObject({ publicKey: a.publicKey, secretKey: a.secretKey })
    const ours = [...(await readAllowList(files.dir))].sort()
    expect(ours).toEqual([a.publicKey, b.publicKey].sort())
    expect(ours).toEqual(await pythonJson<string[]>('loaddir', files.dir))
  })
})

describe("gateway-keygen's certificates, read by pyzmq", () => {
  it('load_certificate gives the printed key, load_certificates the same list as ours, curve_public the same pair', async () => {
    const gw = await keygen('certs', 'gateway')
    const cl = await keygen('certs', 'client')
    const [pub, secret] = await pythonJson<PyLoaded>('load', gw.publicFile, gw.secretFile)
    expect(pub).toEqual({ publicKey: gw.publicKey, secretKey: null })
    expect(secret!.publicKey).toBe(gw.publicKey)
    expect(secret!.secretKey).toBe((await readSecretCertificate(gw.secretFile)).secretKey)
    // libzmq derives the public key from our secret one: the two files hold a real pair.
    expect(await pythonJson<{ publicKey: string }>('derive', gw.secretFile)).toEqual({ publicKey: gw.publicKey })
    const dir = join(files.dir, 'certs')
    expect(await pythonJson<string[]>('loaddir', dir)).toEqual([gw.publicKey, cl.publicKey].sort())
    expect([...(await readAllowList(dir))].sort()).toEqual([gw.publicKey, cl.publicKey].sort())
  })
})

describe('a CURVE handshake between pyzmq and zeromq.js over 127.0.0.1', () => {
  it('pyzmq serves on our certificate behind its own authenticator; zeromq.js connects on a pyzmq certificate', async () => {
    const server = await keygen('server', 'gateway')
    const client = await pythonJson<PyCertificate>('create', '.', 'client') // allow dir: files.dir, holding client.key
    const serving = python('serve', server.secretFile, files.dir)
    await waitFor(() => serving.lines().length > 0 || serving.stderr() !== '', 'pyzmq to bind')
    const { endpoint } = serving.lines()[0] as { endpoint: string }
    expect(endpoint, serving.stderr()).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)

    const identity = await readSecretCertificate(resolve(files.dir, client.secretFile))
    const serverKey = (await readCertificate(server.publicFile)).publicKey
    const push = new Push({ linger: 0, ...curveClientOptions(identity, serverKey) })
    closers.push(() => push.close())
    push.connect(endpoint)
    await push.send('from zeromq.js')
    expect(await serving.exited).toBe(0)
    expect(serving.lines()[1]).toEqual({ received: 'from zeromq.js' })
  })

  it('zeromq.js serves on a pyzmq certificate behind our ZapHandler and allow-list; pyzmq connects on our certificate, an unlisted pyzmq key is refused', async () => {
    const server = await pythonJson<PyCertificate>('create', '.', 'gateway')
    const allowed = await keygen('clients', 'client') // the allow-list: files.dir/clients
    const stranger = await pythonJson<PyCertificate>('create', '.', 'stranger')

    const context = new Context()
    const allowList = await readAllowList(join(files.dir, 'clients'))
    const refusals: ZapRefusal[] = []
    const zap = await ZapHandler.start(context, { allows: (key) => allowList.has(key), onRefused: (r) => refusals.push(r) })
    const pull = new Pull({ context, linger: 0, receiveTimeout: 10_000, ...curveServerOptions(await readSecretCertificate(resolve(files.dir, server.secretFile))) })
    closers.push(() => pull.close(), () => zap.close())
    await pull.bind('tcp://127.0.0.1:*')
    const endpoint = pull.lastEndpoint!

    // The stranger first: refused with the key pyzmq made for it; its message never arrives.
    const refused = python('send', stranger.secretFile, server.publicFile, endpoint, 'from the stranger')
    await waitFor(() => refusals.length > 0, 'the stranger to be refused')
    expect(refusals[0]).toMatchObject({ publicKey: stranger.publicKey, reason: 'not allowed', mechanism: 'CURVE' })

    const sending = python('send', allowed.secretFile, server.publicFile, endpoint, 'from pyzmq')
    const [frame] = await pull.receive()
    expect(frame!.toString()).toBe('from pyzmq')
    expect(await sending.exited).toBe(0)
    expect(sending.lines()).toEqual([{ sent: 'from pyzmq', publicKey: allowed.publicKey }])
    expect(zap.counts).toEqual({ accepted: 1, refused: 1 })
    expect(await refused.exited).toBe(0)
  })
})
