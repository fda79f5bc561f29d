/**
 * The gateway's security pieces without sockets: the replyTo policy in the
 * core (never dispatched, never answered, counted `not-allowed`), `replyKey`
 * read at the intake and forwarded to workers as it came, `rejected` carrying
 * it so the answer goes over CURVE, an allow-list that reloads and keeps its
 * keys when a re-read fails, and what a forked worker is given.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { curveKeyPair } from 'zeromq'
import { silentLogger } from '../../src/log.js'
import { encode } from '../../src/protocol/codec.js'
import { commandsBody } from '../../src/protocol/frames.js'
import { validateGatewayHeader } from '../../src/protocol/validate.js'
import { GatewayCore, type GatewayEffects, type IntakeMessage, type Rejection } from '../../src/gateway/gateway-core.js'
import type { GatewayEvents } from '../../src/gateway/events.js'
import { decodeIntake } from '../../src/gateway/intake.js'
import { resolveGatewayOptions, type GatewayOptions } from '../../src/gateway/options.js'
import { framesFor } from '../../src/gateway/worker-port.js'
import { formatStatus, type GatewayStatus } from '../../src/gateway/status.js'
import { forkedWorkerOptions } from '../../src/options/forked.js'
import { AllowList } from '../../src/security/allow-list.js'
import { writeCertificatePair } from '../../src/security/certificates.js'

const body = commandsBody([['10.0.0.1', 'a']])
const aliceKey = curveKeyPair().publicKey

function setUp(overrides: GatewayOptions = {}) {
  const warned: Record<string, unknown>[] = []
  const line = { warn: (fields: Record<string, unknown>) => void warned.push(fields), info: () => undefined }
  const logs = { logger: silentLogger(), malformed: line, worker: line, refused: line, abort: line }
  const options = resolveGatewayOptions({ maxWorkers: 0, ...overrides })
  const sent: Buffer[][] = []
  const rejected: Rejection[] = []
  const events: [keyof GatewayEvents, unknown][] = []
  const effects: GatewayEffects = {
    toWorker: (_worker, message) => void sent.push(framesFor(message)),
    stopPeer: () => undefined,
    reject: (rejection) => void rejected.push(rejection),
    emit: (name, ...payload) => void events.push([name, payload[0]]),
  }
  const core = new GatewayCore(options, effects, logs, () => 0)
  return {
    core,
    sent,
    rejected,
    warned,
    events,
    ready: () => core.workerMessage('k', Buffer.from('k'), { v: 1, type: 'ready', worker: 'w', capacity: 8 }),
    intake: (frames: Buffer[]) => core.intake(decodeIntake(frames)),
    task: (id: string, replyTo: string, extra: Record<string, unknown> = {}, taskBody: Buffer = body) =>
      core.intake(decodeIntake([encode({ v: 1, type: 'task', id, client: 'c', replyTo, attempt: 1, ...extra }), taskBody])),
  }
}

describe('a task whose replyTo is outside replyAllow', () => {
  it('is never dispatched and never answered: counted not-allowed, logged, raised as rejected not-allowed', () => {
    const g = setUp({ replyAllow: ['ipc', '10.0.0.0/8'] })
    g.ready()
    g.task('out', 'tcp://127.0.0.1:5556')
    g.task('in', 'tcp://10.1.2.3:5556')
    g.task('also-in', 'ipc:///run/cgw/r.sock')
    expect(g.sent.map((frames) => validateGatewayHeader(frames[0]!)).map((v) => (v.ok && v.header.type === 'task' ? v.header.id : '?'))).toEqual(['in', 'also-in'])
    expect(g.rejected).toEqual([])
    expect(g.core.stats.rejected['not-allowed']).toBe(1)
    expect(g.warned).toEqual([{ id: 'out', client: 'c', replyTo: 'tcp://127.0.0.1:5556' }])
    expect(g.events).toContainEqual(['batch:rejected', { id: 'out', client: 'c', reason: 'not-allowed' }])
    expect(g.core.queued).toBe(0)
  })

  it('is not answered either when it is malformed, too large or arrives during shutdown: each counts not-allowed instead', () => {
    const g = setUp({ replyAllow: ['ipc'], maxBatch: 1 })
    const outside = 'tcp://192.0.2.1:5556'
    g.intake([encode({ v: 2, type: 'task', id: 'bad-version', client: 'c', replyTo: outside, attempt: 1 }), body])
    g.task('too-large', outside, {}, commandsBody([['a', 'b'], ['c', 'd']]))
    g.task('bad-body', outside, {}, Buffer.from([0xc1]))
    g.core.beginClose()
    g.task('late', outside)
    g.task('late-but-allowed', 'ipc:///r.sock')
    expect(g.rejected.map((r) => `${r.id}:${r.reason}`)).toEqual(['late-but-allowed:shutting-down'])
    expect(g.core.stats.rejected).toMatchObject({ 'not-allowed': 4, malformed: 0, 'too-large': 0, 'shutting-down': 1 })
    expect(g.core.stats.malformed).toBe(1) // the version is malformed whatever its replyTo; the body was never looked at
  })

  it('is every replyTo, allowed, without replyAllow', () => {
    const g = setUp()
    g.ready()
    g.task('1', 'tcp://203.0.113.9:1')
    expect([g.sent.length, g.core.stats.rejected['not-allowed']]).toEqual([1, 0])
  })
})

describe('replyKey', () => {
  it('reaches the worker as the client sent it, and its absence stays absent', () => {
    const g = setUp()
    g.ready()
    g.task('curve', 'tcp://127.0.0.1:1', { replyKey: aliceKey })
    g.task('plain', 'tcp://127.0.0.1:1')
    const headers = g.sent.map((frames) => validateGatewayHeader(frames[0]!))
    expect(headers).toEqual([
      { ok: true, header: { v: 1, type: 'task', id: 'curve', client: 'c', replyTo: 'tcp://127.0.0.1:1', attempt: 1, replyKey: aliceKey } },
      { ok: true, header: { v: 1, type: 'task', id: 'plain', client: 'c', replyTo: 'tcp://127.0.0.1:1', attempt: 1 } },
    ])
    expect(g.sent.map((frames) => frames[1])).toEqual([body, body])
  })

  it('goes with every rejected of that batch, so the answer leaves over CURVE', () => {
    const g = setUp({ maxBatch: 1 })
    g.task('big', 'tcp://127.0.0.1:1', { replyKey: aliceKey }, commandsBody([['a', 'b'], ['c', 'd']]))
    g.task('queued', 'tcp://127.0.0.1:1', { replyKey: aliceKey })
    g.intake([encode({ v: 1, type: 'task', id: 'three-frames', client: 'c', replyTo: 'tcp://127.0.0.1:1', attempt: 1, replyKey: aliceKey }), body, body])
    g.core.beginClose()
    expect(g.rejected.map((r) => [r.id, r.reason, r.replyKey])).toEqual([
      ['big', 'too-large', aliceKey],
      ['three-frames', 'malformed', aliceKey],
      ['queued', 'shutting-down', aliceKey],
    ])
  })

  it.each([['a number', 42], ['too short', 'abc'], ['not Z85', `${'~'.repeat(40)}`], ['empty', '']])('that is %s makes the task malformed, answered without it', (_, replyKey) => {
    const message: IntakeMessage = decodeIntake([encode({ v: 1, type: 'task', id: 'x', client: 'c', replyTo: 'tcp://127.0.0.1:1', attempt: 1, replyKey }), body])
    expect(message).toEqual({ type: 'malformed', reason: expect.stringMatching(/^header "replyKey" must be a CURVE public key: 40 characters of Z85, got /), answer: { replyTo: 'tcp://127.0.0.1:1', id: 'x', client: 'c' } })
  })
})

describe('an allow-list directory', () => {
  let dir: string
  let spare: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cgw-allow-'))
    spare = join(dir, 'spare')
    await mkdir(join(dir, 'list'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('allows its keys and the always-allowed ones; a reload picks up what changed and says how much', async () => {
    const a = await writeCertificatePair(spare, 'a')
    const b = await writeCertificatePair(spare, 'b')
    const own = curveKeyPair().publicKey
    await copyFile(a.publicFile, join(dir, 'list', 'a.key'))
    const list = await AllowList.read(join(dir, 'list'), [own])
    expect([list.size, list.allows(a.publicKey), list.allows(b.publicKey), list.allows(own)]).toEqual([1, true, false, true])

    await copyFile(b.publicFile, join(dir, 'list', 'b.key'))
    await rm(join(dir, 'list', 'a.key'))
    expect(await list.reload()).toEqual({ dir: join(dir, 'list'), ok: true, keys: 1, added: 1, removed: 1 })
    expect([list.allows(a.publicKey), list.allows(b.publicKey), list.allows(own)]).toEqual([false, true, true])
  })

  it('keeps its keys when a re-read fails, and reports why', async () => {
    const a = await writeCertificatePair(spare, 'a')
    await copyFile(a.publicFile, join(dir, 'list', 'a.key'))
    const list = await AllowList.read(join(dir, 'list'))
    await writeFile(join(dir, 'list', 'typo.key'), 'public-key = "short"\n')
    expect(await list.reload()).toEqual({ dir: join(dir, 'list'), ok: false, keys: 1, error: expect.stringContaining('typo.key:1: public-key is not a 40-character Z85 key') })
    expect(list.allows(a.publicKey)).toBe(true)
    await rm(join(dir, 'list'), { recursive: true })
    expect(await list.reload()).toMatchObject({ ok: false, keys: 1, error: expect.stringContaining('cannot be read') })
    expect(list.allows(a.publicKey)).toBe(true)
  })

  it('reloads one after the other, so the last one asked for wins', async () => {
    const a = await writeCertificatePair(spare, 'a')
    const list = await AllowList.read(join(dir, 'list'))
    const first = list.reload()
    await copyFile(a.publicFile, join(dir, 'list', 'a.key'))
    const second = list.reload()
    await Promise.all([first, second])
    expect(list.allows(a.publicKey)).toBe(true)
  })

  it('without a directory holds only the always-allowed keys, and has nothing to reload', async () => {
    const own = curveKeyPair().publicKey
    const list = await AllowList.read(undefined, [own])
    expect([list.size, list.allows(own), await list.reload()]).toEqual([0, true, undefined])
  })
})

describe('what a forked worker is given with CURVE', () => {
  it("is the certificate's path, no key", () => {
    const resolved = resolveGatewayOptions({ mapFile: 'devices.txt', curveSecret: 'keys/gateway.key_secret', clientsAllow: 'keys/clients' })
    const forked = forkedWorkerOptions(resolved)
    expect(forked.curveSecret).toBe('keys/gateway.key_secret')
    expect(Object.keys(forked)).not.toContain('clientsAllow')
    expect(Object.keys(forked)).not.toContain('serverKey')
  })
})

describe('formatStatus of a gateway with CURVE or a replyTo policy', () => {
  const base = { uptimeMs: 1000, endpoint: 'tcp://127.0.0.1:5557', workersEndpoint: 'ipc:///tmp/w.sock', workers: [] } as unknown as GatewayStatus
  const counters = { refused: { intake: 3, workers: 0, status: 1 } } as unknown as GatewayStatus['counters']

  it('prints one security line: allow-list sizes, refusals per port and the policy', () => {
    const text = formatStatus({ ...base, counters, security: { curve: true, publicKey: aliceKey, allowed: { clients: 2, workers: 1, admins: 1 }, replyAllow: ['10.0.0.0/8', 'ipc'] } })
    expect(text.split('\n').at(-1)).toBe('security  CURVE on · allowed 2 clients, 1 workers, 1 admins · refused intake 3, workers 0, status 1 · reply-allow 10.0.0.0/8,ipc')
  })

  it('prints none for a plaintext gateway without a policy, or one from before CURVE', () => {
    expect(formatStatus({ ...base, counters, security: { curve: false } })).not.toContain('security')
    expect(formatStatus({ ...base, counters })).not.toContain('security')
    expect(formatStatus({ ...base, counters, security: { curve: false, replyAllow: ['ipc'] } }).split('\n').at(-1)).toBe('security  CURVE off · refused intake 3, workers 0, status 1 · reply-allow ipc')
  })

  it('escapes what a hostile gateway puts in its policy', () => {
    const text = formatStatus({ ...base, counters, security: { curve: true, replyAllow: ['\x1b[2J'] } })
    expect(text).toContain('reply-allow \\x1b[2J')
    expect(text).not.toContain('\x1b')
  })
})
