/**
 * Per-target limits stay fair across clients (issue 11 item 3), through a
 * real gateway, one forked worker with the checks executor and real TCP
 * listeners on 127.0.0.1 and 127.0.0.2. Client A sends 40 checks against one
 * address at `rate = "2/s"` (20 s of work); client B then sends 16 checks
 * against another address. A command waiting for its address's rate holds no
 * worker slot, so B's are answered at once. Were A's waiting commands to hold
 * the worker's 8 slots, B's would get one slot per A command that ends, two
 * a second: about 8 s.
 */
import { afterEach, beforeEach, expect, it } from 'vitest'
import { Client, Gateway, type CommandRecord } from '../../dist/index.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { startTcpDevice, type Device } from '../helpers/check-devices.js'
import { expectAllGone, waitFor } from '../helpers/processes.js'

const CONCURRENCY = 8
const A_COMMANDS = 40
const B_COMMANDS = 16
const BOUND_MS = 2000

let files: Fixtures
let gateway: Gateway | undefined
let workerPids: number[]
let clients: Client[]
let runs: Promise<unknown>[]
let devices: Device[]

beforeEach(async () => {
  files = await fixtures()
  gateway = undefined
  workerPids = []
  clients = []
  runs = []
  devices = []
})

afterEach(async () => {
  // A's run still has most of its 20 s to go: its abort cancels what the worker holds.
  await Promise.all(clients.map((c) => c.interrupt()))
  await Promise.all(runs)
  await gateway?.close({ force: true })
  await expectAllGone(workerPids)
  await Promise.all(devices.map((device) => device.close()))
  await files.remove()
})

function client(g: Gateway, batchSize: number): Client {
  const c = new Client({ servers: [g.endpoint], bind: 'tcp://127.0.0.1:*', batchSize, resultTimeoutMs: 60_000 })
  clients.push(c)
  return c
}

it("answers another client's checks against another address at once while one client's checks wait on a rate-limited address", async () => {
  const slow = await startTcpDevice('127.0.0.1')
  const fast = await startTcpDevice('127.0.0.2')
  devices.push(slow, fast)
  const checks = await files.write('checks.toml', [
    'targets = ["127.0.0.0/8"]',
    '[check.slow]',
    `tcp = ${slow.port}`,
    'rate = "2/s"',
    '[check.fast]',
    `tcp = ${fast.port}`,
  ])
  const g = new Gateway({ checksFile: checks, bind: 'tcp://127.0.0.1:*', maxWorkers: 1, minWorkers: 1, concurrency: CONCURRENCY, heartbeatIntervalMs: 200 })
  g.on('worker:spawn', ({ pid }) => workerPids.push(pid))
  gateway = g
  await g.start()
  await waitFor(() => g.connectedWorkers === 1, 'the worker to join')

  const a = client(g, 10)
  const aRecords: CommandRecord[] = []
  a.on('records', (batch) => aRecords.push(...batch))
  runs.push(a.run(await files.write('a.txt', Array.from({ length: A_COMMANDS }, () => '127.0.0.1:slow'))))
  // A's first window is spent: its other commands wait for their address's rate.
  await waitFor(() => slow.arrivals.length === 2 && g.stats.dispatched === A_COMMANDS / 10, "A's first window and all of A's batches to reach the worker")

  const b = client(g, 4)
  const started = performance.now()
  let bWaitMs: number | undefined
  const bRun = b.run(await files.write('b.txt', Array.from({ length: B_COMMANDS }, () => '127.0.0.2:fast'))).then((summary) => {
    bWaitMs = performance.now() - started
    return summary
  })
  runs.push(bRun)
  await waitFor(() => bWaitMs !== undefined, `B's results within ${BOUND_MS} ms`, BOUND_MS)
  const summary = await bRun
  expect(summary.counts).toEqual({ ok: B_COMMANDS, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 })
  expect(fast.arrivals).toHaveLength(B_COMMANDS)
  // A's commands still wait on their rate: at most two more windows have opened.
  expect(slow.arrivals.length).toBeLessThanOrEqual(2 + 2 * Math.ceil(bWaitMs! / 1000) + 2)
  expect(aRecords.length).toBeLessThan(A_COMMANDS)
})
