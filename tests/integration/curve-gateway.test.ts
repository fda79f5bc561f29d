/**
 * The gateway with CURVE on, on real CURVE sockets (protocol.md, Security).
 * Clients, workers and operators are raw zeromq sockets with the test's own
 * keys, speaking CGP/1 by hand, so these tests hold whatever the library's
 * own client and worker do: an allowed client is served end to end over
 * CURVE, an unlisted or plaintext peer gets nothing through and is counted,
 * `rejected` leaves over CURVE, a replyTo outside the policy is never
 * connected to, the status port answers only its admins, and a reload of
 * the allow-lists applies to the next connection.
 */
import { spawn } from 'node:child_process'
import { copyFile, lstat, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server, type Socket as NetSocket } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Context, Dealer, Pull, Push, Request } from 'zeromq'
import { Client, Gateway, requestStatus, type GatewayOptions } from '../../dist/index.js'
import { readSecretCertificate, writeCertificatePair } from '../../dist/security/certificates.js'
import { curveClientOptions, curveServerOptions, type CurveIdentity } from '../../dist/security/curve.js'
import { ZapHandler } from '../../dist/security/zap.js'
import { decodeMessage, enc, type Header, type Received } from '../helpers/independent-cgp.js'
import { expectAllGone, freePort, waitFor } from '../helpers/processes.js'
import { fixtures, type Fixtures } from '../helpers/data.js'

interface Party extends CurveIdentity {
  readonly name: string
  /** Its public certificate, to copy into an allow-list directory. */
  readonly publicFile: string
  readonly secretFile: string
}

const closers: (() => unknown)[] = []
const gateways: Gateway[] = []
const pids: number[] = []
let root: string
let files: Fixtures
let keys: { gateway: Party; alice: Party; bob: Party; stranger: Party; worker: Party; rogue: Party; admin: Party }
let dirs: { clients: string; workers: string; admins: string }
let lines: Record<string, unknown>[]

function track<T extends { close(): unknown }>(thing: T): T {
  closers.push(() => thing.close())
  return thing
}

async function party(name: string): Promise<Party> {
  const pair = await writeCertificatePair(join(root, 'secrets'), name)
  const certificate = await readSecretCertificate(pair.secretFile)
  return { name, publicKey: certificate.publicKey, secretKey: certificate.secretKey, publicFile: pair.publicFile, secretFile: pair.secretFile }
}

async function allow(dir: string, who: Party): Promise<void> {
  await copyFile(who.publicFile, join(dir, `${who.name}.key`))
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cgw-curve-'))
  files = await fixtures()
  lines = []
  const names = ['gateway', 'alice', 'bob', 'stranger', 'worker', 'rogue', 'admin'] as const
  const made = await Promise.all(names.map(party))
  keys = Object.fromEntries(names.map((name, i) => [name, made[i]!])) as typeof keys
  dirs = { clients: join(root, 'clients'), workers: join(root, 'workers'), admins: join(root, 'admins') }
  for (const dir of Object.values(dirs)) await mkdir(dir)
  await allow(dirs.clients, keys.alice)
  await allow(dirs.workers, keys.worker)
  await allow(dirs.admins, keys.admin)
})

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close({ force: true })))
  await expectAllGone(pids.splice(0))
  await rm(root, { recursive: true, force: true })
  await files.remove()
})

/** A logger whose JSON lines the test reads. */
function capturingLogger() {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.length > 0) lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  return pino({ level: 'debug' }, sink)
}

/** A CURVE gateway that forks nothing, with a tcp:// worker port for the test's hand workers. */
async function curveGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const g = new Gateway({
    bind: 'tcp://127.0.0.1:*',
    workersBind: 'tcp://127.0.0.1:*',
    maxWorkers: 0,
    heartbeatIntervalMs: 200,
    graceMs: 0,
    curveSecret: keys.gateway.secretFile,
    clientsAllow: dirs.clients,
    workersAllow: dirs.workers,
    logger: capturingLogger(),
    ...options,
  })
  gateways.push(g)
  g.on('worker:spawn', ({ pid }) => pids.push(pid))
  await g.start()
  return g
}

/** A results PULL that is a CURVE server on `owner`'s key, taking only `allowed` keys; or a plaintext one. */
async function resultsSocket(owner: Party | undefined, allowed: readonly string[] = []): Promise<{ pull: Pull; replyTo: string; inbox: Received[] }> {
  let pull: Pull
  if (owner === undefined) pull = track(new Pull({ linger: 0 }))
  else {
    const context = new Context()
    const zap = await ZapHandler.start(context, { allows: (key) => allowed.includes(key), onRefused: () => undefined })
    pull = new Pull({ context, linger: 0, ...curveServerOptions(owner), zapEnforceDomain: true })
    closers.push(() => zap.close())
    track(pull)
  }
  await pull.bind('tcp://127.0.0.1:*')
  const inbox: Received[] = []
  void (async () => {
    for await (const frames of pull) inbox.push(decodeMessage(frames))
  })().catch(() => undefined)
  return { pull, replyTo: pull.lastEndpoint!, inbox }
}

/** A PUSH to the intake: a CURVE client on `who`'s key, or plaintext. */
function submitter(g: Gateway, who: Party | undefined, serverKey = keys.gateway.publicKey): Push {
  const push = track(new Push({ linger: 0, ...(who === undefined ? {} : curveClientOptions(who, serverKey)) }))
  push.connect(g.endpoint)
  return push
}

function task(id: string, replyTo: string, replyKey: string | undefined, pairs: [string, string][] = [['10.0.0.1', 'foo']]): Buffer[] {
  const header: Header = { v: 1, type: 'task', id, client: 'client-a', replyTo, attempt: 1, ...(replyKey === undefined ? {} : { replyKey }) }
  return [enc(header), enc(pairs)]
}

/**
 * A worker played by hand over CURVE on `who`'s key (plaintext without one):
 * it says ready, records what the gateway sends, and with `serve` answers each
 * task: a result to its replyTo over CURVE with its replyKey, then `done`.
 */
class CurveWorker {
  readonly dealer: Dealer
  readonly inbox: Received[] = []
  /** One send at a time on the DEALER (zeromq.js refuses overlapping sends with EBUSY). */
  private sending: Promise<unknown> = Promise.resolve()
  private pending = 0

  constructor(endpoint: string, id: string, who: Party | undefined, options: { serve?: boolean; serverKey?: string } = {}) {
    const curve = who === undefined ? {} : curveClientOptions(who, options.serverKey ?? keys.gateway.publicKey)
    const dealer = track(new Dealer({ linger: 0, routingId: id, ...curve }))
    this.dealer = dealer
    dealer.connect(endpoint)
    this.send({ v: 1, type: 'ready', worker: id, capacity: 4 })
    // The gateway beats every 200 ms here and drops a worker silent for three beats.
    const beating = setInterval(() => this.send({ v: 1, type: 'heartbeat' }), 100)
    closers.push(() => clearInterval(beating))
    void (async () => {
      for await (const frames of dealer) {
        const message = decodeMessage(frames)
        this.inbox.push(message)
        const h = message.header
        if (options.serve === true && h?.type === 'task') await this.answer(who, id, h)
      }
    })().catch(() => undefined)
  }

  tasks(): Header[] {
    return this.inbox.filter((m) => m.header?.type === 'task').map((m) => m.header!)
  }

  private send(header: Header): void {
    // A peer that never connects holds its first send forever: skip beats rather than pile them up.
    if (header.type === 'heartbeat' && this.pending > 0) return
    this.pending++
    this.sending = this.sending
      .then(() => this.dealer.send(enc(header)))
      .catch(() => undefined)
      .finally(() => this.pending--)
  }

  private async answer(who: Party | undefined, id: string, h: Header): Promise<void> {
    const replyKey = typeof h.replyKey === 'string' ? h.replyKey : undefined
    const push = track(new Push({ linger: 1000, ...(who !== undefined && replyKey !== undefined ? curveClientOptions(who, replyKey) : {}) }))
    push.connect(String(h.replyTo))
    await push.send([enc({ v: 1, type: 'result', id: h.id, client: h.client, worker: id, attempt: h.attempt }), enc([[0, 7]])])
    this.send({ v: 1, type: 'done', id: h.id, client: h.client })
  }
}

async function joined(g: Gateway, worker: () => CurveWorker): Promise<CurveWorker> {
  const before = g.connectedWorkers
  const made = worker()
  await waitFor(() => g.connectedWorkers > before, 'the worker to join')
  return made
}

/** Resolves after `ms` unless `condition` became true first, which fails the test. */
async function staysFalse(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (condition()) throw new Error(`${what} happened`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const refusals = (port: string): Record<string, unknown>[] => lines.filter((l) => l.msg === 'connection refused' && l.port === port)

describe('a CURVE gateway and an allow-listed client', () => {
  it('serves it end to end: the task reaches a listed worker with its replyKey as sent, and the result reaches the CURVE PULL at replyTo', async () => {
    const g = await curveGateway()
    expect(g.curvePublicKey).toBe(keys.gateway.publicKey)
    const worker = await joined(g, () => new CurveWorker(g.workersEndpoint, 'w1', keys.worker, { serve: true }))
    // Alice's results socket takes only the worker's key: the result must come from it, encrypted.
    const results = await resultsSocket(keys.alice, [keys.worker.publicKey])
    await submitter(g, keys.alice).send(task('b1', results.replyTo, keys.alice.publicKey))

    await waitFor(() => results.inbox.length === 1, 'the result at replyTo')
    expect(results.inbox[0]!.header).toMatchObject({ type: 'result', id: 'b1', client: 'client-a', worker: 'w1' })
    expect(results.inbox[0]!.body).toEqual([[0, 7]])
    expect(worker.tasks()).toEqual([{ v: 1, type: 'task', id: 'b1', client: 'client-a', replyTo: results.replyTo, attempt: 1, replyKey: keys.alice.publicKey }])
    await waitFor(() => g.stats.completed === 1, 'done')
    expect(g.stats.refused).toEqual({ intake: 0, workers: 0, status: 0 })
    expect(lines.some((l) => l.msg === 'CURVE on: intake, worker port and status port take only allow-listed keys')).toBe(true)
  })

  it('forwards replyKey, so a CURVE worker never answers a plaintext PULL at replyTo', async () => {
    const g = await curveGateway()
    await joined(g, () => new CurveWorker(g.workersEndpoint, 'w1', keys.worker, { serve: true }))
    const plain = await resultsSocket(undefined)
    // The task claims a CURVE results socket (replyKey) where a plaintext one listens.
    await submitter(g, keys.alice).send(task('b1', plain.replyTo, keys.alice.publicKey))
    await waitFor(() => g.stats.dispatched === 1, 'the task to be dispatched')
    await staysFalse(() => plain.inbox.length > 0, 700, 'a message reaching the plaintext PULL')
  })
})

describe('a CURVE gateway and peers it does not list', () => {
  it('lets nothing of an unlisted key or a plaintext client in, counts each refusal and logs the key and address', async () => {
    const g = await curveGateway()
    const worker = await joined(g, () => new CurveWorker(g.workersEndpoint, 'w1', keys.worker))
    const results = await resultsSocket(keys.alice, [keys.worker.publicKey])

    const stranger = submitter(g, keys.stranger)
    await stranger.send(task('from-stranger', results.replyTo, keys.stranger.publicKey))
    await waitFor(() => g.stats.refused.intake >= 1, 'the stranger to be refused')
    stranger.close()
    expect(refusals('intake')[0]).toMatchObject({ key: keys.stranger.publicKey, address: '127.0.0.1', reason: 'not allowed' })

    const refusedBefore = g.stats.refused.intake
    const plaintext = submitter(g, undefined)
    await plaintext.send(task('from-plaintext', results.replyTo, undefined))
    await waitFor(() => g.stats.refused.intake > refusedBefore, 'the plaintext client to be refused')
    plaintext.close()
    // The peers race to see the mechanism mismatch: if the plaintext one hangs up first, this side sees EPIPE.
    expect(refusals('intake').some((l) => l.reason === 'not CURVE (a plaintext peer)' || String(l.reason).includes('a plaintext peer, or one that left'))).toBe(true)

    // The intake still reads: a listed client's batch, sent last, is the only one that arrives.
    await submitter(g, keys.alice).send(task('from-alice', results.replyTo, keys.alice.publicKey))
    await waitFor(() => worker.tasks().length === 1, 'the listed client task to reach the worker')
    expect(worker.tasks().map((t) => t.id)).toEqual(['from-alice'])
    expect(g.stats.received).toBe(1)
    expect(g.status().counters.refused?.intake).toBe(g.stats.refused.intake)
  })

  it('a client with the wrong server key gets nothing through either', async () => {
    const g = await curveGateway()
    await submitter(g, keys.alice, keys.stranger.publicKey).send(task('b1', 'tcp://127.0.0.1:9', keys.alice.publicKey))
    await waitFor(() => g.stats.refused.intake >= 1, 'the handshake to fail')
    expect(g.stats.received).toBe(0)
  })

  it('a rogue worker without an allowed key never receives a task; a listed one then gets it', async () => {
    const g = await curveGateway()
    const results = await resultsSocket(keys.alice, [keys.worker.publicKey])
    await submitter(g, keys.alice).send(task('b1', results.replyTo, keys.alice.publicKey))
    await waitFor(() => g.queued === 1, 'the batch to be queued')

    const rogue = new CurveWorker(g.workersEndpoint, 'rogue', keys.rogue)
    const plaintextRogue = new CurveWorker(g.workersEndpoint, 'plain-rogue', undefined)
    // A client's key is for the intake only.
    const clientAsWorker = new CurveWorker(g.workersEndpoint, 'alice-as-worker', keys.alice)
    const refusedKeys = (): unknown[] => refusals('workers').map((l) => l.key)
    await waitFor(
      () => refusedKeys().includes(keys.rogue.publicKey) && refusedKeys().includes(keys.alice.publicKey) && refusedKeys().includes(undefined),
      'each of the three rogues to be refused',
    )
    expect(g.stats.refused.workers).toBeGreaterThanOrEqual(3)
    await staysFalse(() => g.connectedWorkers > 0 || rogue.inbox.length + plaintextRogue.inbox.length + clientAsWorker.inbox.length > 0, 500, 'a rogue joining')

    const honest = await joined(g, () => new CurveWorker(g.workersEndpoint, 'w1', keys.worker, { serve: true }))
    await waitFor(() => results.inbox.length === 1, 'the result from the listed worker')
    expect(honest.tasks().map((t) => t.id)).toEqual(['b1'])
    expect(rogue.inbox.length + plaintextRogue.inbox.length + clientAsWorker.inbox.length).toBe(0)
  })

  it("accepts the gateway's own key on the worker port, as its forked workers present it", async () => {
    const g = await curveGateway()
    const own = await joined(g, () => new CurveWorker(g.workersEndpoint, 'like-forked', keys.gateway))
    expect(own.inbox.length).toBe(0)
    expect(g.stats.refused.workers).toBe(0)
  })
})

describe('the gateway\'s own answers with CURVE', () => {
  it('sends rejected over CURVE to the replyKey, presenting the gateway key', async () => {
    const g = await curveGateway({ maxBatch: 1 })
    // Alice's results socket takes only the gateway's key: what arrives was sent by the gateway, encrypted.
    const results = await resultsSocket(keys.alice, [keys.gateway.publicKey])
    await submitter(g, keys.alice).send(task('big', results.replyTo, keys.alice.publicKey, [['10.0.0.1', 'a'], ['10.0.0.2', 'b']]))
    await waitFor(() => results.inbox.length === 1, 'the rejection')
    expect(results.inbox[0]!.header).toEqual({ v: 1, type: 'rejected', id: 'big', client: 'client-a', reason: 'too-large', retryable: false })
  })

  it('answers a task whose replyKey is not a key malformed, without connecting over CURVE to it', async () => {
    const g = await curveGateway()
    const plain = await resultsSocket(undefined)
    await submitter(g, keys.alice).send(task('bad-key', plain.replyTo, 'not-a-key'))
    await waitFor(() => plain.inbox.length === 1, 'the rejection')
    expect(plain.inbox[0]!.header).toMatchObject({ type: 'rejected', id: 'bad-key', reason: 'malformed' })
    expect(g.queued).toBe(0)
  })
})

describe('a replyTo outside --reply-allow', () => {
  /** A raw TCP listener that records every connection made to it. */
  async function listener(): Promise<{ port: number; connections: NetSocket[] }> {
    const connections: NetSocket[] = []
    const server: Server = createServer((socket) => connections.push(socket))
    closers.push(() => {
      for (const socket of connections) socket.destroy()
      return new Promise((resolve) => server.close(resolve))
    })
    const port = await freePort()
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    return { port, connections }
  }

  it('is never connected to, by a worker or by the gateway, and is counted not-allowed; an allowed one is served', async () => {
    const g = await curveGateway({ replyAllow: ['192.0.2.0/24', 'ipc'] })
    const worker = await joined(g, () => new CurveWorker(g.workersEndpoint, 'w1', keys.worker, { serve: true }))
    const target = await listener()
    const outside = `tcp://127.0.0.1:${target.port}`
    const rejected: string[] = []
    g.on('batch:rejected', ({ id, reason }) => rejected.push(`${id}:${reason}`))
    const alice = submitter(g, keys.alice)
    await alice.send(task('runs', outside, keys.alice.publicKey))
    // Too large and malformed: either would be answered `rejected` if its replyTo were allowed.
    await alice.send([enc({ v: 1, type: 'task', id: 'broken', client: 'client-a', replyTo: outside, attempt: 1 }), Buffer.from([0xc1])])
    await waitFor(() => g.stats.rejected['not-allowed'] === 2, 'both to be counted not-allowed')
    await staysFalse(() => target.connections.length > 0, 700, 'a connection to the listener')
    expect(worker.tasks()).toEqual([])
    expect(rejected).toEqual(['runs:not-allowed', 'broken:not-allowed'])
    expect(lines.filter((l) => l.msg === 'replyTo outside --reply-allow: batch dropped, never connected to nor answered').map((l) => l.replyTo)).toEqual([outside, outside])

    // ipc is in the policy: a client there is served.
    const ipcPath = join(root, 'r.sock')
    const context = new Context()
    const zap = await ZapHandler.start(context, { allows: (key) => key === keys.worker.publicKey, onRefused: () => undefined })
    closers.push(() => zap.close())
    const pull = track(new Pull({ context, linger: 0, receiveTimeout: 10_000, ...curveServerOptions(keys.alice) }))
    await pull.bind(`ipc://${ipcPath}`)
    await alice.send(task('served', `ipc://${ipcPath}`, keys.alice.publicKey))
    const [header] = await pull.receive()
    expect(decodeMessage([header!]).header).toMatchObject({ type: 'result', id: 'served' })
    expect(g.status().security?.replyAllow).toEqual(['192.0.2.0/24', 'ipc'])
  })

  it('warns at start when CURVE is on and no --reply-allow is given', async () => {
    await curveGateway()
    expect(lines.some((l) => l.level === 40 && String(l.msg).startsWith('CURVE is on but no --reply-allow is set'))).toBe(true)
  })
})

describe('the status port with CURVE', () => {
  it('answers an admin key only: a wrong key or plaintext gets no reply at all, and is counted', async () => {
    const port = await freePort()
    const g = await curveGateway({ statusBind: `tcp://127.0.0.1:${port}`, adminsAllow: dirs.admins })
    const endpoint = `tcp://127.0.0.1:${port}`
    await expect(requestStatus(endpoint, 500, curveClientOptions(keys.stranger, keys.gateway.publicKey))).rejects.toThrow(/no answer within 500 ms/)
    await expect(requestStatus(endpoint, 500)).rejects.toThrow(/no answer within 500 ms/)
    // A client's key is not an admin's.
    const raw = track(new Request({ linger: 0, receiveTimeout: 500, ...curveClientOptions(keys.alice, keys.gateway.publicKey) }))
    raw.connect(endpoint)
    await raw.send(enc({ v: 1, type: 'status' }))
    await expect(raw.receive()).rejects.toMatchObject({ code: 'EAGAIN' })

    const status = await requestStatus(endpoint, 3000, curveClientOptions(keys.admin, keys.gateway.publicKey))
    expect(status.security).toEqual({ curve: true, publicKey: keys.gateway.publicKey, allowed: { clients: 1, workers: 1, admins: 1 } })
    expect(status.counters.refused!.status).toBeGreaterThanOrEqual(3)
    expect(status.counters.refused!.status).toBe(g.stats.refused.status)
  })
})

describe('reloading the allow-lists', () => {
  it('applies to the next connection: a key added is served, a key removed is refused, a directory that fails to read keeps the old list', async () => {
    const g = await curveGateway()
    const worker = await joined(g, () => new CurveWorker(g.workersEndpoint, 'w1', keys.worker))
    const replyTo = 'tcp://127.0.0.1:9'
    const bobSends = async (id: string): Promise<Push> => {
      const push = submitter(g, keys.bob)
      await push.send(task(id, replyTo, keys.bob.publicKey))
      return push
    }

    let push = await bobSends('refused-1')
    await waitFor(() => g.stats.refused.intake >= 1, 'bob to be refused')
    push.close()

    await allow(dirs.clients, keys.bob)
    expect(await g.reloadAllowLists()).toEqual(expect.arrayContaining([{ dir: dirs.clients, ok: true, keys: 2, added: 1, removed: 0 }]))
    push = await bobSends('served')
    await waitFor(() => worker.tasks().length === 1, "bob's task to reach the worker")
    expect(worker.tasks()[0]).toMatchObject({ id: 'served', replyKey: keys.bob.publicKey })
    expect(lines.some((l) => l.msg === 'allow-list re-read' && l.dir === dirs.clients && l.keys === 2)).toBe(true)

    // A broken certificate: the reload fails, and the old list (with bob) stays.
    await writeFile(join(dirs.clients, 'broken.key'), 'not a certificate\n')
    const failed = await g.reloadAllowLists()
    expect(failed.find((r) => r.dir === dirs.clients)).toMatchObject({ ok: false, keys: 2, error: expect.stringContaining('broken.key') })
    expect(lines.some((l) => l.msg === 'allow-list not re-read; the old one stays' && l.level === 50)).toBe(true)
    push.close()
    push = await bobSends('still-served')
    await waitFor(() => worker.tasks().length === 2, "bob's second task")
    push.close()

    await rm(join(dirs.clients, 'broken.key'))
    await rm(join(dirs.clients, 'bob.key'))
    expect((await g.reloadAllowLists()).find((r) => r.dir === dirs.clients)).toEqual({ dir: dirs.clients, ok: true, keys: 1, added: 0, removed: 1 })
    const refusedBefore = g.stats.refused.intake
    push = await bobSends('refused-2')
    await waitFor(() => g.stats.refused.intake > refusedBefore, 'bob to be refused again')
    await staysFalse(() => worker.tasks().length > 2, 300, "bob's task arriving after his key was removed")
    expect(g.stats.received).toBe(2)
  })

  it('is a no-op without CURVE', async () => {
    const g = new Gateway({ bind: 'tcp://127.0.0.1:*', maxWorkers: 0 })
    gateways.push(g)
    await g.start()
    expect(await g.reloadAllowLists()).toEqual([])
  })
})

describe('the worker port of forked workers', () => {
  it('lives in an owner-only (0700) directory that is gone after close; forked workers are served there', async () => {
    const { commands, map } = await files.seed(4, 0)
    const g = new Gateway({ bind: 'tcp://127.0.0.1:*', mapFile: map, maxWorkers: 1, graceMs: 2000 })
    gateways.push(g)
    g.on('worker:spawn', ({ pid }) => pids.push(pid))
    await g.start()
    const socketPath = g.workersEndpoint.replace('ipc://', '')
    const dir = dirname(socketPath)
    expect(dir).toMatch(/\/cgw-[0-9a-f]{6}-[0-9]+-[0-9a-f]{8}$/)
    const info = await lstat(dir)
    expect([info.isDirectory(), info.mode & 0o777, info.uid]).toEqual([true, 0o700, process.getuid!()])
    expect((await lstat(socketPath)).isSocket()).toBe(true)

    const client = new Client({ servers: [g.endpoint], bind: 'tcp://127.0.0.1:*', batchSize: 2 })
    const summary = await client.run(commands)
    expect(summary.counts.ok).toBe(4)
    await g.close()
    await expect(lstat(dir)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('sweeps up the directories of gateways that are gone, and keeps those of live ones', async () => {
    const exited = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    const deadPid = exited.pid!
    await new Promise((resolve) => exited.once('exit', resolve))
    const dead = join(tmpdir(), `cgw-abcdef-${deadPid}-0badf00d`)
    const live = join(tmpdir(), `cgw-abcdef-${process.pid}-0badf00d`)
    closers.push(() => rm(live, { recursive: true, force: true }))
    for (const dir of [dead, live]) {
      await mkdir(dir, { mode: 0o700 })
      await writeFile(join(dir, 'w.sock'), '')
    }
    const g = new Gateway({ bind: 'tcp://127.0.0.1:*', maxWorkers: 0 })
    gateways.push(g)
    await g.start()
    await expect(lstat(dead)).rejects.toMatchObject({ code: 'ENOENT' })
    expect((await lstat(live)).isDirectory()).toBe(true)
  })

  it('is a CURVE server on ipc too: the gateway key is let in, another key is refused', async () => {
    const g = await curveGateway({ workersBind: undefined, workersAllow: undefined })
    expect(g.workersEndpoint).toMatch(/^ipc:\/\//)
    await joined(g, () => new CurveWorker(g.workersEndpoint, 'like-forked', keys.gateway))
    new CurveWorker(g.workersEndpoint, 'other', keys.worker)
    new CurveWorker(g.workersEndpoint, 'plain', undefined)
    await waitFor(() => g.stats.refused.workers >= 2, 'the other key and the plaintext peer to be refused')
    expect(g.connectedWorkers).toBe(1)
  })

  it("hands forked workers the certificate's absolute path in CGW_WORKER_CONFIG, and no key", async () => {
    const { map } = await files.seed(4, 0)
    const spawned: number[] = []
    // Relative, as an operator types it; the worker gets it absolute.
    const curveSecret = relative(process.cwd(), keys.gateway.secretFile)
    expect(curveSecret).not.toMatch(/^\//)
    const g = new Gateway({ bind: 'tcp://127.0.0.1:*', mapFile: map, maxWorkers: 1, graceMs: 0, curveSecret, clientsAllow: dirs.clients })
    gateways.push(g)
    g.on('worker:spawn', ({ pid }) => {
      pids.push(pid)
      spawned.push(pid)
    })
    await g.start()
    await waitFor(() => spawned.length === 1, 'the worker to be forked')
    const environ = (await readFile(`/proc/${spawned[0]}/environ`, 'utf8')).split('\0')
    const config = JSON.parse(environ.find((v) => v.startsWith('CGW_WORKER_CONFIG='))!.slice('CGW_WORKER_CONFIG='.length)) as Record<string, unknown>
    expect(config.curveSecret).toBe(keys.gateway.secretFile)
    expect(config).not.toHaveProperty('serverKey')
    expect(config.gateway).toBe(g.workersEndpoint)
    expect(environ.join('\n')).not.toContain(keys.gateway.secretKey)
  })

  it('forked workers connect over CURVE with the gateway key and answer a CURVE client', async () => {
    const { map } = await files.seed(4, 0)
    const g = await curveGateway({ workersBind: undefined, workersAllow: undefined, mapFile: map, maxWorkers: 1, graceMs: 2000 })
    await waitFor(() => g.connectedWorkers === 1, 'the forked worker to join')
    const results = await resultsSocket(keys.alice, [keys.gateway.publicKey])
    await submitter(g, keys.alice).send(task('b1', results.replyTo, keys.alice.publicKey, [['137.72.95.0', 'foo']]))
    await waitFor(() => results.inbox.length === 1, 'the result')
    expect(results.inbox[0]!.header).toMatchObject({ type: 'result', id: 'b1' })
    expect(g.stats.refused.workers).toBe(0)
  })
})

describe('CURVE options that cannot work', () => {
  const base = { bind: 'tcp://127.0.0.1:*', maxWorkers: 0 }
  it.each([
    ['an allow-list without curveSecret', () => ({ clientsAllow: dirs.clients }), /clientsAllow \(--clients-allow\) needs curveSecret/],
    ['curveSecret without clientsAllow', () => ({ curveSecret: keys.gateway.secretFile }), /needs clientsAllow \(--clients-allow DIR\)/],
    ['a status port without adminsAllow', () => ({ curveSecret: keys.gateway.secretFile, clientsAllow: dirs.clients, statusBind: 'tcp://127.0.0.1:*' }), /needs adminsAllow/],
    ['a worker port for remote workers without workersAllow', () => ({ curveSecret: keys.gateway.secretFile, clientsAllow: dirs.clients, workersBind: 'tcp://127.0.0.1:*' }), /needs workersAllow/],
    ['a bad --reply-allow entry', () => ({ replyAllow: ['10.0.0.0/33'] }), /replyAllow \(--reply-allow\): "10.0.0.0\/33" is not a CIDR block: the prefix must be 0 to 32/],
  ] as const)('%s is refused at construction', (_, options, message) => {
    expect(() => new Gateway({ ...base, ...options() })).toThrow(message)
  })

  it('a public certificate given as curveSecret fails start, binding nothing', async () => {
    const port = await freePort()
    const g = new Gateway({ ...base, bind: `tcp://127.0.0.1:${port}`, curveSecret: keys.gateway.publicFile, clientsAllow: dirs.clients })
    await expect(g.start()).rejects.toMatchObject({ code: 'ERR_CERTIFICATE', message: expect.stringContaining('give the NAME.key_secret file') })
    // The port is free: nothing was bound.
    const squatter = track(new Pull({ linger: 0 }))
    await squatter.bind(`tcp://127.0.0.1:${port}`)
  })
})
