/**
 * CURVE on the connecting side, on real CURVE sockets: the library Client,
 * Worker and requestStatus() against raw CURVE peers played by the test (a
 * raw gateway whose intake PULL and worker ROUTER are CURVE servers with
 * their own allow-lists, a raw status REP), so that none of it depends on
 * the Gateway class. protocol.md, Security: each task carries the client's
 * key as `replyKey`, the worker connects to `replyTo` with it as the server
 * key, and the client's `workersAllow` decides which workers may deliver.
 */
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { copyFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Pull, Push, Reply, curveKeyPair } from 'zeromq'
import { Client, StatusError, Worker, requestStatus, type Executor } from '../../dist/index.js'
import { certificates, curveServer, rawGateway, type TestCertificate } from '../helpers/curve-peers.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { decodeMessage, enc, receiveWithin, type Header } from '../helpers/independent-cgp.js'
import { handRouter } from '../helpers/hand-peers.js'
import { ROOT, expectAllGone, waitFor } from '../helpers/processes.js'

const NAMES = ['gateway', 'gateway2', 'client', 'worker', 'rogue', 'admin'] as const
type Certs = Record<(typeof NAMES)[number], TestCertificate>

let files: Fixtures
let certs: Certs
let closables: { close(): void }[] = []
let workers: Worker[] = []

beforeEach(async () => {
  files = await fixtures()
  certs = await certificates(files.dir, NAMES)
})

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.close({ force: true })))
  for (const closable of closables.splice(0).reverse()) closable.close()
  await files.remove()
})

function track<T extends { close(): void }>(closable: T): T {
  closables.push(closable)
  return closable
}

/** Answers 1 for every command, like the seed's device map. */
const answerOne: Executor = async () => 1

function commands(n: number): { address: string; command: string }[] {
  return Array.from({ length: n }, (_, i) => ({ address: `10.0.0.${i + 1}`, command: 'foo' }))
}

function curveWorker(gateway: string, cert: TestCertificate | undefined, serverKey: string | undefined, extra: Partial<ConstructorParameters<typeof Worker>[0]> = {}): Worker {
  const worker = new Worker({
    gateway,
    executor: answerOne,
    heartbeatIntervalMs: 200,
    ...(cert === undefined ? {} : { curveSecret: cert.secretFile }),
    ...(serverKey === undefined ? {} : { serverKey }),
    ...extra,
  })
  workers.push(worker)
  worker.start()
  return worker
}

/** A directory holding the public certificates of `certs` only: an allow-list. */
async function allowList(name: string, members: readonly TestCertificate[]): Promise<string> {
  const dir = join(files.dir, name)
  await mkdir(dir)
  for (const member of members) await copyFile(member.publicFile, join(dir, member.publicFile.split('/').pop()!))
  return dir
}

describe('a CURVE client through a CURVE gateway to a CURVE worker', () => {
  it('is served: its tasks carry its public key as replyKey, and the results come back encrypted to its own key', async () => {
    const gw = await rawGateway(certs.gateway, track, { clients: [certs.client.publicKey], workers: [certs.worker.publicKey] })
    curveWorker(gw.workerPort.endpoint, certs.worker, certs.gateway.publicFile)
    const client = new Client({
      servers: [gw.intake.endpoint],
      bind: 'tcp://127.0.0.1:*',
      batchSize: 4,
      curveSecret: certs.client.secretFile,
      serverKey: certs.gateway.publicFile,
      workersAllow: await allowList('workers', [certs.worker]),
    })
    const summary = await client.run(commands(12))
    expect(summary).toMatchObject({ commands: 12, counts: { ok: 12, lost: 0 }, total: 12, exitCode: 0, workersRefused: 0 })
    expect(gw.tasks).toHaveLength(3)
    for (const task of gw.tasks) expect(task.replyKey).toBe(certs.client.publicKey)
    // Each link presented the key its own allow-list names, and nothing else was let in.
    expect(gw.intake.counts()).toMatchObject({ refused: 0 })
    expect(gw.intake.counts().accepted).toBeGreaterThanOrEqual(1)
    expect(gw.workerPort.counts()).toMatchObject({ refused: 0 })
    expect(gw.fromWorkers.filter((h) => h.type === 'done')).toHaveLength(3)
  })

  it('without workersAllow takes results from any key: a plaintext worker replying under a key pair of its own', async () => {
    const intake = await curveServer((o) => new Pull(o), certs.gateway, track, [certs.client.publicKey])
    // The worker port: a plaintext hand router, fed what the CURVE intake received.
    const { router, endpoint } = await handRouter(track)
    let workerIdentity: Buffer | undefined
    void (async () => {
      for await (const [identity] of router) workerIdentity ??= identity
    })().catch(() => undefined)
    void (async () => {
      for await (const frames of intake.socket) {
        await waitFor(() => workerIdentity !== undefined, 'the worker to say ready')
        await router.send([workerIdentity!, ...frames])
      }
    })().catch(() => undefined)
    curveWorker(endpoint, undefined, undefined)
    const client = new Client({ servers: [intake.endpoint], bind: 'tcp://127.0.0.1:*', batchSize: 5, curveSecret: certs.client.secretFile, serverKey: certs.gateway.publicFile })
    const summary = await client.run(commands(10))
    expect(summary).toMatchObject({ counts: { ok: 10, lost: 0 }, total: 10, exitCode: 0 })
    expect(summary).not.toHaveProperty('workersRefused')
  })

  it('with workersAllow refuses a worker whose key is not listed: its results never arrive, and the refusals are counted', async () => {
    const gw = await rawGateway(certs.gateway, track, { workers: [certs.rogue.publicKey] })
    const rogue = curveWorker(gw.workerPort.endpoint, certs.rogue, certs.gateway.publicFile, { reply: { retries: 1, retryDelayMs: 300 } })
    const client = new Client({
      servers: [gw.intake.endpoint],
      bind: 'tcp://127.0.0.1:*',
      batchSize: 3,
      resultTimeoutMs: 2500,
      maxResends: 0,
      curveSecret: certs.client.secretFile,
      serverKey: certs.gateway.publicFile,
      workersAllow: await allowList('workers', [certs.worker]),
    })
    const summary = await client.run(commands(3))
    expect(summary.counts).toMatchObject({ ok: 0, lost: 3 })
    expect(summary.lostBatches.noResult).toBe(1)
    expect(summary.workersRefused).toBeGreaterThanOrEqual(1)
    expect(summary.exitCode).toBe(1)
    // The rogue ran the batch and tried; its result was never taken, and it goes on living.
    await waitFor(() => rogue.stats.resultsDropped === 1, 'the rogue worker to give its result up')
    expect(rogue.stats.batches).toBe(1)
  })
})

describe('a CURVE client and its gateway', () => {
  it('is refused by a gateway that does not list its key: nothing arrives, the batches count unsent, and the log says why', async () => {
    const gw = await rawGateway(certs.gateway, track, { clients: [certs.client.publicKey] })
    const lines: string[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) })
    const client = new Client({ servers: [gw.intake.endpoint], bind: 'tcp://127.0.0.1:*', sendRetries: 0, retryDelayMs: 1000, curveSecret: certs.rogue.secretFile, serverKey: certs.gateway.publicFile, logger })
    const summary = await client.run(commands(3))
    expect(summary.lostBatches.unsent).toBe(1)
    expect(gw.tasks).toEqual([])
    expect(gw.intake.refused[0]).toMatchObject({ publicKey: certs.rogue.publicKey, reason: 'not allowed' })
    const refusal = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => String(line.msg).startsWith("a gateway refused this client's key"))
    expect(refusal).toMatchObject({ publicKey: certs.rogue.publicKey, status: 400 })
  })

  it('sends its abort over CURVE to every gateway, under its key', async () => {
    const gw = await rawGateway(certs.gateway, track, { clients: [certs.client.publicKey] })
    const client = new Client({ servers: [gw.intake.endpoint], bind: 'tcp://127.0.0.1:*', abortGraceMs: 0, curveSecret: certs.client.secretFile, serverKey: certs.gateway.publicFile })
    const running = client.run(commands(2))
    await waitFor(() => gw.tasks.length === 1, 'the task to reach the gateway')
    await client.interrupt()
    await waitFor(() => gw.aborts.length === 1, 'the abort to reach the gateway')
    expect(gw.aborts[0]).toEqual({ v: 1, type: 'abort', client: client.id })
    expect((await running).exitCode).toBe(130)
    expect(gw.intake.refused).toEqual([])
  })
})

describe('a client of several gateways with a server key each', () => {
  async function rawIntake(gateway: TestCertificate) {
    const intake = await curveServer((o) => new Pull(o), gateway, track)
    const tasks: Header[] = []
    // Play the gateway and its worker at once: answer every task straight to its replyTo, over CURVE with its replyKey.
    const pair = curveKeyPair()
    const answer = track(new Push({ linger: 0, curvePublicKey: pair.publicKey, curveSecretKey: pair.secretKey }))
    let connected = ''
    void (async () => {
      for await (const frames of intake.socket) {
        const { header, body } = decodeMessage(frames)
        tasks.push(header!)
        if (connected !== header!.replyTo) {
          answer.curveServerKey = header!.replyKey as string
          answer.connect(header!.replyTo as string)
          connected = header!.replyTo as string
        }
        const n = (body as unknown[]).length
        await answer.send([enc({ v: 1, type: 'result', id: header!.id, client: header!.client, worker: 'raw', attempt: header!.attempt }), enc(Array.from({ length: n }, () => [0, 1]))])
      }
    })().catch(() => undefined)
    return { intake, tasks }
  }

  it('connects to each with its own key, in the order of the servers, without a warning on the terminal', async () => {
    const a = await rawIntake(certs.gateway)
    const b = await rawIntake(certs.gateway2)
    const warnings: Error[] = []
    const onWarning = (warning: Error): void => void warnings.push(warning)
    process.on('warning', onWarning)
    track({ close: () => process.off('warning', onWarning) })
    const client = new Client({
      servers: [a.intake.endpoint, b.intake.endpoint],
      bind: 'tcp://127.0.0.1:*',
      batchSize: 2,
      window: 1,
      curveSecret: certs.client.secretFile,
      serverKey: [certs.gateway.publicFile, certs.gateway2.publicFile],
    })
    const summary = await client.run(commands(16))
    expect(summary).toMatchObject({ counts: { ok: 16, lost: 0 }, total: 16 })
    expect(a.tasks.length).toBeGreaterThan(0)
    expect(b.tasks.length).toBeGreaterThan(0)
    expect(a.tasks.length + b.tasks.length).toBe(8)
    expect(warnings.map((w) => w.message)).toEqual([])
  })

  it('sends nothing when the keys are given in the wrong order: no handshake completes, and the batches count unsent', async () => {
    const a = await rawIntake(certs.gateway)
    const b = await rawIntake(certs.gateway2)
    const client = new Client({
      servers: [a.intake.endpoint, b.intake.endpoint],
      bind: 'tcp://127.0.0.1:*',
      batchSize: 2,
      sendRetries: 0,
      retryDelayMs: 800,
      curveSecret: certs.client.secretFile,
      serverKey: [certs.gateway2.publicFile, certs.gateway.publicFile],
    })
    const summary = await client.run(commands(4))
    expect(summary.counts.ok).toBe(0)
    expect(summary.lostBatches.unsent).toBe(2)
    expect(a.tasks).toEqual([])
    expect(b.tasks).toEqual([])
  })
})

describe('a CURVE worker', () => {
  /** A raw CURVE gateway whose worker port admits `worker`, and a CURVE results PULL playing a client on `client`'s key. */
  async function setUp(allowResultsFrom?: readonly string[]) {
    const gw = await rawGateway(certs.gateway, track, { workers: [certs.worker.publicKey] })
    const results = await curveServer((o) => new Pull(o), certs.client, track, allowResultsFrom)
    return { gw, results }
  }

  const task = (id: string, replyTo: string, replyKey?: unknown): Header => ({ v: 1, type: 'task', id, client: 'c', replyTo, attempt: 1, ...(replyKey === undefined ? {} : { replyKey }) })
  const body = enc([['10.0.0.1', 'foo'], ['10.0.0.2', 'foo']])

  it('delivers to the replyTo over CURVE under its own key, which the client can allow-list', async () => {
    const { gw, results } = await setUp([certs.worker.publicKey])
    curveWorker(gw.workerPort.endpoint, certs.worker, certs.gateway.publicFile)
    await gw.toWorker(task('1', results.endpoint, certs.client.publicKey), body)
    const received = await receiveWithin(results.socket, 5000)
    expect(received?.header).toMatchObject({ type: 'result', id: '1', client: 'c' })
    expect(received?.body).toEqual([[0, 1], [0, 1]])
    expect(results.counts()).toEqual({ accepted: 1, refused: 0 })
  })

  it('sends nothing to a plaintext PULL at a replyTo that asked for CURVE: nothing arrives, the result is given up, the worker goes on', async () => {
    const { gw, results } = await setUp()
    const worker = curveWorker(gw.workerPort.endpoint, certs.worker, certs.gateway.publicFile, { reply: { retries: 1, retryDelayMs: 300 } })
    const plaintext = track(new Pull({ linger: 0 }))
    await plaintext.bind('tcp://127.0.0.1:*')
    const done: { id: string; delivered: boolean }[] = []
    worker.on('batch:done', (batch) => done.push(batch))
    await gw.toWorker(task('1', plaintext.lastEndpoint!, certs.client.publicKey), body)
    await waitFor(() => done.length === 1, 'the worker to give the result up', 8000)
    expect(done[0]).toMatchObject({ id: '1', delivered: false })
    expect(worker.stats.resultsDropped).toBe(1)
    expect(await receiveWithin(plaintext, 300)).toBeNull()
    // Its done went to the gateway all the same, and the next task is served.
    expect(gw.fromWorkers.some((h) => h.type === 'done' && h.id === '1')).toBe(true)
    await gw.toWorker(task('2', results.endpoint, certs.client.publicKey), body)
    expect((await receiveWithin(results.socket, 5000))?.header).toMatchObject({ type: 'result', id: '2' })
    // On one session throughout: it never counted the gateway as lost and said ready again.
    expect(gw.fromWorkers.filter((h) => h.type === 'ready')).toHaveLength(1)
  })

  it.each([
    { what: 'one character short', replyKey: () => certs.client.publicKey.slice(1) },
    { what: 'outside Z85', replyKey: () => `${certs.client.publicKey.slice(1)}"` },
    { what: 'nil', replyKey: () => null },
    { what: 'an integer', replyKey: () => 7 },
  ])('survives a task whose replyKey is $what: counted malformed, nothing sent, the next task served', async ({ replyKey }) => {
    const { gw, results } = await setUp()
    const worker = curveWorker(gw.workerPort.endpoint, certs.worker, certs.gateway.publicFile)
    await gw.toWorker(task('1', results.endpoint, replyKey()), body)
    await waitFor(() => worker.stats.malformed === 1, 'the worker to count the task malformed')
    expect(worker.stats.batches).toBe(0)
    await gw.toWorker(task('2', results.endpoint, certs.client.publicKey), body)
    expect((await receiveWithin(results.socket, 5000))?.header).toMatchObject({ type: 'result', id: '2' })
    // On one session throughout: it never counted the gateway as lost and said ready again.
    expect(gw.fromWorkers.filter((h) => h.type === 'ready')).toHaveLength(1)
  })

  it('is refused by a gateway that does not list its key: it never receives a task, and its log says why', async () => {
    const gw = await rawGateway(certs.gateway, track, { workers: [certs.worker.publicKey] })
    const lines: string[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) })
    curveWorker(gw.workerPort.endpoint, certs.rogue, certs.gateway.publicFile, { logger })
    await waitFor(() => gw.workerPort.refused.length > 0, 'the gateway to refuse the rogue')
    expect(gw.workerPort.refused[0]).toMatchObject({ publicKey: certs.rogue.publicKey, reason: 'not allowed' })
    await waitFor(() => lines.some((line) => line.includes("the gateway refused this worker's key")), 'the refusal in the log')
    expect(JSON.parse(lines.find((line) => line.includes('refused this worker'))!)).toMatchObject({ publicKey: certs.rogue.publicKey, status: 400 })
    expect(gw.fromWorkers).toEqual([])
  })
})

describe('a forked worker given the gateway secret certificate and no server key', () => {
  it("connects under the gateway's key to the gateway's key, and presents it to clients", async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:5:0', '10.0.0.2:foo:6:0'])
    // The worker port admits the gateway's own key only: that is what forked workers present.
    const gw = await rawGateway(certs.gateway, track, { workers: [certs.gateway.publicKey] })
    const results = await curveServer((o) => new Pull(o), certs.client, track, [certs.gateway.publicKey])
    const config = {
      gateway: gw.workerPort.endpoint,
      id: 'forked-1',
      logLevel: 'silent',
      gatewayPid: process.pid,
      executor: { module: 'device-map', options: { file: map } },
      capacity: 4,
      concurrency: 16,
      commandTimeoutMs: 0,
      heartbeatIntervalMs: 200,
      heartbeatLiveness: 3,
      maxBatch: 10_000,
      maxMessageBytes: 16 * 1024 * 1024,
      curveSecret: certs.gateway.secretFile,
    }
    const child = fork(`${ROOT}dist/worker/main.js`, [], { env: { ...process.env, CGW_WORKER_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
    let stderr = ''
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const exited = once(child, 'exit')
    try {
      await waitFor(() => gw.fromWorkers.some((h) => h.type === 'ready' && h.worker === 'forked-1'), 'the forked worker to say ready over CURVE')
      await gw.toWorker({ v: 1, type: 'task', id: '9', client: 'c', replyTo: results.endpoint, attempt: 1, replyKey: certs.client.publicKey }, enc([['10.0.0.1', 'foo'], ['10.0.0.2', 'foo']]))
      const received = await receiveWithin(results.socket, 5000)
      expect(received?.header).toMatchObject({ type: 'result', id: '9', worker: 'forked-1' })
      expect(received?.body).toEqual([[0, 5], [0, 6]])
      expect(results.counts()).toEqual({ accepted: 1, refused: 0 })
      await gw.toWorker({ v: 1, type: 'stop' })
      const [code] = (await exited) as [number | null]
      expect(code).toBe(0)
      expect(stderr).not.toContain(certs.gateway.secretKey)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      await expectAllGone([child.pid!])
    }
  })
})

describe('requestStatus over CURVE', () => {
  async function statusServer() {
    const server = await curveServer((o) => new Reply(o), certs.gateway, track, [certs.admin.publicKey])
    void (async () => {
      for await (const [frame] of server.socket) {
        const request = decodeMessage([frame!]).header
        await server.socket.send(enc(request?.type === 'status' ? { v: 1, type: 'status', uptimeMs: 42, endpoint: 'tcp://gw:5557' } : { v: 1, type: 'error', reason: 'no' }))
      }
    })().catch(() => undefined)
    return server
  }

  it("answers an operator whose key the gateway's allow-list names", async () => {
    const server = await statusServer()
    const status = await requestStatus(server.endpoint, { timeoutMs: 3000, curveSecret: certs.admin.secretFile, serverKey: certs.gateway.publicFile })
    expect(status).toMatchObject({ uptimeMs: 42, endpoint: 'tcp://gw:5557' })
  })

  it('fails at once, saying the key was refused, for a key the gateway does not list', async () => {
    const server = await statusServer()
    const started = Date.now()
    const failure = requestStatus(server.endpoint, { timeoutMs: 8000, curveSecret: certs.rogue.secretFile, serverKey: certs.gateway.publicFile })
    await expect(failure).rejects.toBeInstanceOf(StatusError)
    await expect(failure).rejects.toThrow(`the gateway refused this key, ${certs.rogue.publicKey} (ZAP status 400)`)
    expect(Date.now() - started).toBeLessThan(4000)
    expect(server.refused[0]).toMatchObject({ publicKey: certs.rogue.publicKey })
  })

  it('gets no answer with the wrong server key, or in plaintext', async () => {
    const server = await statusServer()
    await expect(requestStatus(server.endpoint, { timeoutMs: 600, curveSecret: certs.admin.secretFile, serverKey: certs.gateway2.publicFile })).rejects.toThrow('no answer within 600 ms')
    await expect(requestStatus(server.endpoint, 600)).rejects.toThrow('no answer within 600 ms')
  })

  it('refuses a certificate option without its partner, before any socket', async () => {
    await expect(requestStatus('tcp://127.0.0.1:1', { curveSecret: certs.admin.secretFile })).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringContaining('needs --server-key') })
  })
})
