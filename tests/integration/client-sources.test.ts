/**
 * Client.run() on sources that are not files, through a real gateway and a
 * real forked worker: an async iterable, an array, one that never ends (then
 * Ctrl+C), one that is empty; and the events of the run, which a listener
 * attached right after calling run() must not miss.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Client, Gateway, type BadLine, type CommandRecord } from '../../dist/index.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { expectAllGone, waitFor } from '../helpers/processes.js'

let files: Fixtures
let gateways: Gateway[] = []
let workerPids: number[] = []

/** Address 10.0.k.j answers `ping` with 1000k + j, so a record's value tells which command it answers. */
function addressOf(n: number): string {
  return `10.0.${Math.floor(n / 250)}.${n % 250}`
}

async function startGateway(count: number): Promise<Gateway> {
  const map = Array.from({ length: count }, (_, n) => `${addressOf(n)}:ping:${1000 * Math.floor(n / 250) + (n % 250)}:0`)
  const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', maxWorkers: 1, mapFile: await files.write('map.txt', map) })
  gateway.on('worker:spawn', ({ pid }) => workerPids.push(pid))
  gateways.push(gateway)
  await gateway.start()
  return gateway
}

function client(gateway: Gateway, batchSize = 7): Client {
  return new Client({ servers: [gateway.endpoint], bind: 'tcp://127.0.0.1:*', batchSize, resultTimeoutMs: 10_000 })
}

beforeEach(async () => {
  files = await fixtures()
  gateways = []
  workerPids = []
})

afterEach(async () => {
  await Promise.all(gateways.map((gateway) => gateway.close()))
  await expectAllGone(workerPids)
  await files.remove()
})

describe('Client.run(asyncIterable) through a real gateway', () => {
  it('delivers every command once, each record carrying its position in the iterable as its line', async () => {
    const count = 300
    const gateway = await startGateway(count)
    // Positions 1..count+2: a bad item at 2 and one at 150, so positions and command numbers differ.
    async function* items(): AsyncGenerator<{ address: string; command: string }> {
      for (let n = 0; n < count; n++) {
        if (n === 1) yield { address: 'not an address', command: 'ping' }
        if (n === 148) yield { address: addressOf(n), command: 'no such command!' }
        if (n % 50 === 0) await new Promise((resolve) => setImmediate(resolve))
        yield { address: addressOf(n), command: 'ping' }
      }
    }
    const c = client(gateway)
    const run = c.run(items())
    // Attached after run() was called, in the same turn: nothing may be missed.
    const records: CommandRecord[] = []
    const badLines: BadLine[] = []
    c.on('records', (batch) => records.push(...batch))
    c.on('bad-line', (bad) => badLines.push(bad))
    const summary = await run
    expect(summary).toMatchObject({ commands: count, badLines: 2, counts: { ok: count, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 }, duplicates: 0, exitCode: 0 })
    expect(summary.batches).toBe(Math.ceil(count / 7))
    expect(badLines.map((b) => [b.path, b.line])).toEqual([
      ['<iterable>', 2],
      ['<iterable>', 150],
    ])
    records.sort((a, b) => a.line - b.line)
    expect(records).toHaveLength(count)
    records.forEach((record, n) => {
      const position = n + 1 + (n >= 1 ? 1 : 0) + (n >= 148 ? 1 : 0)
      expect(record).toEqual({ line: position, address: addressOf(n), command: 'ping', code: 0, value: 1000 * Math.floor(n / 250) + (n % 250) })
    })
  })

  it('takes an array too, numbered from 1', async () => {
    const gateway = await startGateway(10)
    const c = client(gateway, 4)
    const records: CommandRecord[] = []
    c.on('records', (batch) => records.push(...batch))
    const summary = await c.run(Array.from({ length: 10 }, (_, n) => ({ address: addressOf(n), command: 'ping' })))
    expect(summary.counts.ok).toBe(10)
    expect(records.sort((a, b) => a.line - b.line).map((r) => [r.line, r.value])).toEqual(Array.from({ length: 10 }, (_, n) => [n + 1, n]))
  })

  it('stops at once on interrupt while the iterable waits for ever, with the partial summary', async () => {
    const gateway = await startGateway(10)
    let handedOut = 0
    async function* thenNothing(): AsyncGenerator<{ address: string; command: string }> {
      for (let n = 0; n < 8; n++) {
        handedOut++
        yield { address: addressOf(n), command: 'ping' }
      }
      await new Promise(() => undefined)
    }
    const c = client(gateway, 4)
    const run = c.run(thenNothing())
    await waitFor(() => c.progress.finished === 8, 'the first eight commands to be answered')
    await c.interrupt()
    const summary = await run
    expect(handedOut).toBe(8)
    expect(summary).toMatchObject({ exitCode: 130, interrupted: true, commands: 8, counts: { ok: 8, lost: 0 } })
  })

  it('rejects an empty iterable with ERR_INPUT_EMPTY naming <iterable>', async () => {
    const gateway = await startGateway(1)
    await expect(client(gateway).run([])).rejects.toMatchObject({ code: 'ERR_INPUT_EMPTY', message: '<iterable> has no commands' })
  })

  it('refuses strict with an iterable (it can be read only once) and sends nothing', async () => {
    const gateway = await startGateway(1)
    const c = new Client({ servers: [gateway.endpoint], bind: 'tcp://127.0.0.1:*', strict: true })
    await expect(c.run([{ address: addressOf(0), command: 'ping' }])).rejects.toMatchObject({ name: 'ConfigError', code: 'ERR_INVALID_OPTION' })
    expect(gateway.stats.received).toBe(0)
  })
})
