/**
 * The executor seam reaching forked workers: a Gateway given an executor
 * module makes every forked worker import it, and answers come from that
 * module only; a module that cannot load makes each worker exit with one
 * log line, and the gateway re-forks with a doubling pause, not in a loop.
 * Real gateway, real forked processes, a real Client.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Client, Gateway, type CommandRecord, type GatewayOptions } from '../../dist/index.js'
import { CONFIG_EXIT_CODE } from '../../dist/worker/exit-codes.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { forkWorkerEntry, forkedWorkerConfig, logLines } from '../helpers/forked-worker.js'
import { expectAllGone, freePort, waitFor } from '../helpers/processes.js'

const TAGGING = 'tests/fixtures/tagging-executor.mjs'
const FAILING = 'tests/fixtures/failing-executor.mjs'

let files: Fixtures
let gateways: Gateway[] = []
let workerPids: number[] = []

beforeEach(async () => {
  files = await fixtures()
  gateways = []
  workerPids = []
})

afterEach(async () => {
  await Promise.all(gateways.map((gateway) => gateway.close({ force: true })))
  await expectAllGone(workerPids)
  await files.remove()
})

/** Starts a gateway; `beforeStart` can listen to the events of the first forks. */
async function startGateway(options: GatewayOptions, beforeStart?: (gateway: Gateway) => void): Promise<{ gateway: Gateway; spawned: Map<number, string> }> {
  const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', heartbeatIntervalMs: 200, ...options })
  const spawned = new Map<number, string>()
  gateway.on('worker:spawn', ({ id, pid }) => {
    workerPids.push(pid)
    spawned.set(pid, id)
  })
  beforeStart?.(gateway)
  gateways.push(gateway)
  await gateway.start()
  return { gateway, spawned }
}

/** Takes the crash reports written so far out of the suite's crash directory (tests/setup/crash-watch.ts). */
function takeCrashReports(): string[] {
  const dir = process.env.CGW_CRASH_DIR!
  return readdirSync(dir).map((name) => {
    const text = readFileSync(join(dir, name), 'utf8')
    rmSync(join(dir, name))
    return text
  })
}

describe('a gateway given an executor module', () => {
  it("answers every command through it in the forked workers: each value carries the run's random tag and the worker's id and pid", async () => {
    const tag = `tag-${randomBytes(8).toString('hex')}`
    const closedFile = join(files.dir, 'closed.txt')
    const { gateway, spawned } = await startGateway({ maxWorkers: 2, executor: { module: TAGGING, options: { tag, closedFile } } })
    const lines = Array.from({ length: 64 }, (_, i) => `10.1.${Math.floor(i / 8)}.${i % 8}:${i % 2 === 0 ? 'foo' : 'bar'}`)
    const commands = await files.write('commands.txt', lines)
    const client = new Client({ servers: [gateway.endpoint], bind: 'tcp://127.0.0.1:*', resultTimeoutMs: 10_000, batchSize: 4 })
    const records: CommandRecord[] = []
    client.on('records', (batch) => records.push(...batch))
    const summary = await client.run(commands)

    expect(summary).toMatchObject({ commands: 64, counts: { ok: 64, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 }, exitCode: 0 })
    expect(records).toHaveLength(64)
    for (const record of records) {
      expect(record.code).toBe(0)
      const [valueTag, workerId, pid, address, command] = String(record.value).split('|')
      expect([valueTag, address, command]).toEqual([tag, record.address, record.command])
      // A worker this gateway forked ran it, in its own process, under its own id.
      expect(Number(pid)).not.toBe(process.pid)
      expect(spawned.get(Number(pid))).toBe(workerId)
    }

    // Shutdown closes each forked worker's executor once.
    await gateway.close()
    await expectAllGone([...spawned.keys()])
    const closed = readFileSync(closedFile, 'utf8').trim().split('\n').sort()
    expect(closed).toEqual([...spawned.values()].sort())
  })
})

describe('a forked worker whose executor module does not load', () => {
  it(`exits ${CONFIG_EXIT_CODE} after one log line naming the module and the cause`, async () => {
    const worker = forkWorkerEntry(forkedWorkerConfig({ gateway: `ipc://${join(files.dir, 'nobody.sock')}`, id: 'lonely-w1', executor: { module: FAILING } }))
    workerPids.push(worker.child.pid!)
    const code = await worker.exit
    expect(code).toBe(CONFIG_EXIT_CODE)
    expect(logLines(worker.stderr())).toEqual([
      expect.objectContaining({
        level: 60,
        msg: 'executor did not load; exiting',
        module: FAILING,
        err: `executor module "${FAILING}": createExecutor failed: this executor never loads: no licence file`,
      }),
    ])
  })
})

describe('a gateway whose executor module never loads', () => {
  it('re-forks with a pause that doubles after each failed start (250 ms, 500 ms, 1 s), never connecting a worker', async () => {
    const timeline: { what: 'spawn' | 'exit'; at: number; code?: number | null }[] = []
    const { gateway } = await startGateway({ maxWorkers: 2, heartbeatIntervalMs: 50, executor: { module: FAILING } }, (g) => {
      g.on('worker:spawn', () => timeline.push({ what: 'spawn', at: Date.now() }))
      g.on('worker:exit', ({ code }) => timeline.push({ what: 'exit', at: Date.now(), code }))
    })
    const exits = () => timeline.filter((e) => e.what === 'exit')
    await waitFor(() => exits().length === 4, 'four failed starts', 15_000)

    expect(exits().every((e) => e.code === CONFIG_EXIT_CODE)).toBe(true)
    // One worker at a time (nothing ever said ready), and each fork waits longer than the one before.
    expect(timeline.slice(0, 8).map((e) => e.what)).toEqual(['spawn', 'exit', 'spawn', 'exit', 'spawn', 'exit', 'spawn', 'exit'])
    const pauses = [1, 3, 5].map((i) => timeline[i + 1]!.at - timeline[i]!.at)
    // The pool's clock and ours are both Date.now(); 5 ms covers the event hand-over.
    expect(pauses[0]).toBeGreaterThanOrEqual(250 - 5)
    expect(pauses[1]).toBeGreaterThanOrEqual(500 - 5)
    expect(pauses[2]).toBeGreaterThanOrEqual(1000 - 5)
    expect(gateway.connectedWorkers).toBe(0)

    await gateway.close({ force: true })
    await expectAllGone(workerPids)
    // The pool reports every non-zero exit to the suite; these ones were the point of the test.
    const reports = takeCrashReports()
    expect(reports.length).toBeGreaterThanOrEqual(4)
    for (const report of reports) expect(report).toMatch(new RegExp(`exited with code ${CONFIG_EXIT_CODE}`))
  })
})

describe('a gateway whose executor module file is not there', () => {
  it('start() rejects with ERR_EXECUTOR naming the module, before it binds or forks anything', async () => {
    const port = await freePort()
    const gateway = new Gateway({ bind: `tcp://127.0.0.1:${port}`, maxWorkers: 2, executor: { module: './no-such-executor.mjs' } })
    const spawned: number[] = []
    gateway.on('worker:spawn', ({ pid }) => spawned.push(pid))
    const error = await gateway.start().catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'ConfigError', code: 'ERR_EXECUTOR' })
    expect((error as Error).message).toContain('executor module "./no-such-executor.mjs": file')
    expect(spawned).toEqual([])
    expect(gateway.workerPids).toEqual([])
    // Nothing was bound: another gateway takes the same port at once.
    const next = new Gateway({ bind: `tcp://127.0.0.1:${port}`, maxWorkers: 0 })
    gateways.push(next)
    await next.start()
    expect(next.endpoint).toBe(`tcp://127.0.0.1:${port}`)
  })
})
