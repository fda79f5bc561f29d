/**
 * `/metrics` as Prometheus scrapes it, on real sockets and real processes:
 * a gateway with forked workers running a known workload, a checks run whose
 * states must show, a library Worker with its own listener, and a hand-played
 * worker whose `done` is malformed. Every answer is read with a real
 * text-format parser (tests/helpers/prometheus.ts).
 */
import { createServer, type Server } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Client, Gateway, Worker, type GatewayOptions } from '../../dist/index.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { HandWorker, handClient, type Track } from '../helpers/hand-peers.js'
import { withDeadline } from '../helpers/independent-cgp.js'
import { ROOT, expectAllGone, freePort, waitFor } from '../helpers/processes.js'
import { scrape } from '../helpers/prometheus.js'

const COMMANDS = `${ROOT}tests/data/client_data.txt`
const EXIT_WITH = `${ROOT}tests/fixtures/plugins/exit-with.sh`
const REJECT_REASONS = ['malformed', 'too-large', 'queue-full', 'shutting-down', 'attempts-exhausted', 'not-allowed']

let files: Fixtures
const gateways: Gateway[] = []
const workers: Worker[] = []
const servers: Server[] = []
const sockets: { close(): void }[] = []
const pids: number[] = []

const track: Track = (socket) => {
  sockets.push(socket)
  return socket
}

beforeEach(async () => {
  files = await fixtures()
})

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close()
  await Promise.all(workers.splice(0).map((worker) => worker.close({ force: true })))
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()))
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
  await expectAllGone(pids.splice(0))
  await files.remove()
})

async function startGateway(options: GatewayOptions): Promise<Gateway & { httpUrl: string }> {
  const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', heartbeatIntervalMs: 200, http: 0, ...options })
  gateway.on('worker:spawn', ({ pid }) => pids.push(pid))
  gateways.push(gateway)
  await gateway.start()
  expect(gateway.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  return gateway as Gateway & { httpUrl: string }
}

function client(gateway: Gateway, batchSize: number): Client {
  return new Client({ servers: [gateway.endpoint], bind: 'tcp://127.0.0.1:*', batchSize, resultTimeoutMs: 10_000 })
}

describe('a gateway with forked workers after a known run', () => {
  it('counts the 512 commands of tests/data/client_data.txt in 32 batches of 16, all ok, with nothing left queued', async () => {
    const { map } = await files.seed(512, 0) // the same 512 pairs, answering at once
    const gateway = await startGateway({ mapFile: map, maxWorkers: 2 })
    const summary = await client(gateway, 16).run(COMMANDS)
    expect(summary).toMatchObject({ commands: 512, batches: 32, counts: { ok: 512 } })
    // `done` follows the result, so the gateway may count the last ones a moment later.
    await waitFor(() => gateway.stats.completed === 32, 'the gateway to count 32 batches done')

    const m = await scrape(`${gateway.httpUrl}/metrics`)
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(m.value('cgw_commands_received_total')).toBe(512)
    expect(m.value('cgw_batches_received_total')).toBe(32)
    expect(m.value('cgw_batches_dispatched_total')).toBe(32)
    expect(m.value('cgw_batches_done_total')).toBe(32)
    expect(m.value('cgw_batches_requeued_total')).toBe(0)
    expect(m.value('cgw_commands_total', { outcome: 'ok' })).toBe(512)
    for (const outcome of ['unknown', 'failed', 'timeout', 'cancelled']) expect(m.value('cgw_commands_total', { outcome })).toBe(0)
    for (const reason of REJECT_REASONS) expect(m.value('cgw_batches_rejected_total', { reason })).toBe(0)
    for (const socket of ['intake', 'workers']) expect(m.value('cgw_malformed_messages_total', { socket })).toBe(0)
    for (const state of ['ok', 'warning', 'critical', 'unknown']) expect(m.value('cgw_check_states_total', { state })).toBe(0)
    expect([m.value('cgw_queue_batches'), m.value('cgw_queue_bytes'), m.value('cgw_batches_in_flight')]).toEqual([0, 0, 0])
    expect(m.family('cgw_commands_total').type).toBe('COUNTER')
    expect(m.family('cgw_queue_batches').type).toBe('GAUGE')

    const wait = m.histogram('cgw_queue_wait_seconds')
    const duration = m.histogram('cgw_batch_duration_seconds')
    expect([wait.count, duration.count]).toEqual([32, 32])
    expect(duration.buckets['+Inf']).toBe(32)
    expect(duration.buckets['0.001']).toBeLessThanOrEqual(duration.buckets['300']!)
    expect(duration.sum).toBeGreaterThan(0)

    // Workers by kind and state: every connected one is forked, and idle once all is done.
    const forked = gateway.connectedWorkers
    expect(forked).toBeGreaterThan(0)
    expect(m.value('cgw_workers', { kind: 'forked', state: 'idle' })).toBe(forked)
    expect(m.value('cgw_workers', { kind: 'forked', state: 'busy' })).toBe(0)
    expect(m.value('cgw_workers', { kind: 'remote', state: 'idle' })).toBe(0)
    expect(m.value('cgw_worker_capacity_batches', { kind: 'forked' })).toBe(forked * 64)
    // The standard process metrics, under their usual names.
    expect(m.value('process_cpu_seconds_total')).toBeGreaterThan(0)
    expect(m.family('nodejs_heap_size_used_bytes').type).toBe('GAUGE')
    // No label names a device address or a client id.
    const labels = new Set(m.families.filter((f) => f.name.startsWith('cgw_')).flatMap((f) => f.metrics.flatMap((s) => Object.keys(s.labels ?? {}))))
    expect([...labels].sort()).toEqual(['kind', 'outcome', 'port', 'reason', 'socket', 'state'])
  })

  it('serves /metrics beside /status.json, and 404 for other paths', async () => {
    const { map } = await files.seed(2, 0)
    const gateway = await startGateway({ mapFile: map, maxWorkers: 1 })
    expect((await fetch(`${gateway.httpUrl}/metrics`)).status).toBe(200)
    expect((await fetch(`${gateway.httpUrl}/status.json`)).status).toBe(200)
    expect((await fetch(`${gateway.httpUrl}/metrics/x`)).status).toBe(404)
  })
})

describe('a gateway running real checks', () => {
  it('counts check results by state, and a command outside the targets as unknown', async () => {
    const open = createServer((socket) => socket.destroy())
    servers.push(open)
    await new Promise<void>((resolve) => open.listen(0, '127.0.0.1', resolve))
    const openPort = (open.address() as { port: number }).port
    const closedPort = await freePort()
    const checks = await files.write('checks.toml', [
      'targets = ["127.0.0.0/8"]',
      '[check.ssh]',
      `tcp = ${openPort}`,
      '[check.closed]',
      `tcp = ${closedPort}`,
      '[check.warn]',
      `exec = ["${EXIT_WITH}", "1", "WARNING - load 5"]`,
      '[check.crit]',
      `exec = ["${EXIT_WITH}", "2", "CRITICAL - down"]`,
      '[check.unsure]',
      `exec = ["${EXIT_WITH}", "3", "UNKNOWN - no idea"]`,
    ])
    const commands = await files.write('commands.txt', [
      ...['127.0.0.1:ssh', '127.0.0.1:ssh', '127.0.0.1:ssh'],
      ...['127.0.0.1:warn', '127.0.0.2:warn'],
      '127.0.0.1:crit',
      '127.0.0.1:closed',
      '127.0.0.1:unsure',
      '10.9.9.9:ssh', // outside the targets: code 1, never touches the network
    ])
    const gateway = await startGateway({ checksFile: checks, maxWorkers: 1 })
    const summary = await client(gateway, 4).run(commands)
    expect(summary.counts).toMatchObject({ ok: 8, unknown: 1 })
    await waitFor(() => gateway.stats.completed === 3, 'the gateway to count 3 batches done')

    const m = await scrape(`${gateway.httpUrl}/metrics`)
    const states = Object.fromEntries(['ok', 'warning', 'critical', 'unknown'].map((state) => [state, m.value('cgw_check_states_total', { state })]))
    expect(states).toEqual({ ok: 3, warning: 2, critical: 2, unknown: 1 })
    expect([m.value('cgw_commands_total', { outcome: 'ok' }), m.value('cgw_commands_total', { outcome: 'unknown' })]).toEqual([8, 1])
    expect(gateway.status().counters.states).toEqual(states)
  })
})

describe('a library Worker with http', () => {
  it('binds its listener with listen(), counts what it ran, tells the gateway in done, and closes the listener on close', async () => {
    const gateway = await startGateway({ maxWorkers: 0, workersBind: 'tcp://127.0.0.1:*' })
    const worker = new Worker({ gateway: gateway.workersEndpoint, http: 0, executor: (address) => (address === '10.0.0.9' ? Promise.reject(new Error('boom')) : Promise.resolve({ state: 1, output: 'meh' })) })
    workers.push(worker)
    const url = await worker.listen()
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(await worker.listen()).toBe(url) // idempotent
    worker.start()
    const commands = await files.write('commands.txt', ['10.0.0.1:foo', '10.0.0.2:foo', '10.0.0.9:foo'])
    const summary = await client(gateway, 2).run(commands)
    expect(summary.counts).toMatchObject({ ok: 2, failed: 1 })
    await waitFor(() => gateway.stats.completed === 2, 'the gateway to count 2 batches done')

    const m = await scrape(`${url}/metrics`)
    expect(m.value('cgw_worker_batches_total')).toBe(2)
    expect([m.value('cgw_commands_total', { outcome: 'ok' }), m.value('cgw_commands_total', { outcome: 'failed' })]).toEqual([2, 1])
    expect(m.value('cgw_check_states_total', { state: 'warning' })).toBe(2)
    expect(m.value('cgw_worker_in_flight_batches')).toBe(0)
    expect(m.histogram('cgw_batch_duration_seconds').count).toBe(2)
    expect(m.value('process_cpu_seconds_total')).toBeGreaterThan(0)
    // The gateway learnt the same from the worker's done.
    expect(gateway.stats.commands).toMatchObject({ ok: 2, failed: 1 })
    expect(gateway.stats.states).toEqual({ ok: 0, warning: 2, critical: 0, unknown: 0 })

    await worker.close()
    await expect(fetch(`${url}/metrics`)).rejects.toThrow()
  })

  it('rejects listen() with ERR_ENDPOINT naming the address when the port is in use, and still closes', async () => {
    const taken = createServer()
    servers.push(taken)
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    const worker = new Worker({ gateway: 'tcp://127.0.0.1:1', http: `127.0.0.1:${port}`, executor: () => Promise.resolve(1) })
    workers.push(worker)
    await expect(worker.listen()).rejects.toMatchObject({ code: 'ERR_ENDPOINT', message: expect.stringContaining(`127.0.0.1:${port}`) })
    await withDeadline(worker.close(), 5000, 'the worker to close')
  })

  it('without http, listen() resolves undefined and nothing listens', async () => {
    const worker = new Worker({ gateway: 'tcp://127.0.0.1:1', executor: () => Promise.resolve(1) })
    workers.push(worker)
    expect(await worker.listen()).toBeUndefined()
    expect(worker.httpUrl).toBeUndefined()
  })
})

describe('a worker whose done has malformed counts', () => {
  it('is counted malformed on the workers socket, and the gateway serves on', async () => {
    const gateway = await startGateway({ maxWorkers: 0, workersBind: 'tcp://127.0.0.1:*', graceMs: 0 })
    const ready = new Promise<void>((resolve) => gateway.once('worker:ready', () => resolve()))
    const hand = new HandWorker(gateway.workersEndpoint, 'hand-1', 1, track)
    await withDeadline(ready, 10_000, 'the hand worker to join')
    const c = await handClient(gateway.endpoint, track)
    await c.send('b1')
    const task = await hand.nthTask(1)
    await hand.send({ v: 1, type: 'done', id: task.id, client: task.client, counts: [1, 0, 0, 0], ms: 1 })
    await hand.send({ v: 1, type: 'done', id: task.id, client: task.client, counts: [1, 0, 0, 0, 0], ms: -5 })
    await waitFor(() => gateway.stats.malformed === 2, 'both dones to be counted malformed')
    expect(gateway.stats.completed).toBe(0)
    // The same batch, reported well: completed and counted; the next one is dispatched.
    await hand.send({ v: 1, type: 'done', id: task.id, client: task.client, counts: [1, 0, 0, 0, 0], ms: 1 })
    await c.send('b2')
    const next = await hand.nthTask(2)
    expect(next.id).toBe('b2')
    await hand.send({ v: 1, type: 'done', id: 'b2', client: next.client })
    await waitFor(() => gateway.stats.completed === 2, 'both batches to complete')

    const m = await scrape(`${gateway.httpUrl}/metrics`)
    expect(m.value('cgw_malformed_messages_total', { socket: 'workers' })).toBe(2)
    expect(m.value('cgw_malformed_messages_total', { socket: 'intake' })).toBe(0)
    expect(m.value('cgw_batches_done_total')).toBe(2)
    // b2's done had no counts: it is in batches only.
    expect(m.value('cgw_commands_total', { outcome: 'ok' })).toBe(1)
    expect(m.value('cgw_workers', { kind: 'remote', state: 'idle' })).toBe(1)
  })
})
