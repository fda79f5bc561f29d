/**
 * A gateway whose event listener throws, on real sockets. A send to a worker
 * that has gone fails on a later turn; the gateway then loses that worker and
 * raises worker:lost from inside the send's failure handler, where a throwing
 * listener used to become an unhandled rejection (which ends the process).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { linesLogger, unhandledDuring } from '../helpers/unhandled.js'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Push } from 'zeromq'
import { Client, Gateway } from '../../dist/index.js'
import { HandWorker, type Track } from '../helpers/hand-peers.js'
import { expectAllGone, waitFor } from '../helpers/processes.js'

const sockets: { close(): void }[] = []
const gateways: Gateway[] = []

const track: Track = (socket) => {
  sockets.push(socket)
  return socket
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close()
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close({ force: true })))
})

describe('a gateway whose worker:lost listener throws', () => {
  it('logs the error when a send to a vanished worker fails, and makes no unhandled rejection', async () => {
    const { logger, lines } = linesLogger()
    const unhandled = await unhandledDuring(async () => {
      const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', maxWorkers: 0, heartbeatIntervalMs: 50, graceMs: 0, logger })
      gateways.push(gateway)
      await gateway.start()
      const lost: string[] = []
      gateway.on('worker:lost', ({ reason }) => {
        lost.push(reason)
        throw new Error('listener broke')
      })
      const worker = new HandWorker(gateway.workersEndpoint, 'gone', 1, track)
      await waitFor(() => gateway.connectedWorkers === 1, 'the hand worker to join')
      worker.dealer.close() // no bye: the next heartbeat to it cannot be routed
      await waitFor(() => lost.length === 1, 'the gateway to lose it')
      await new Promise((resolve) => setImmediate(resolve)) // an unhandled rejection is reported by now
      expect(lost).toEqual(['unreachable'])
      expect(lines.some((line) => line.includes('listener broke'))).toBe(true)
    })
    expect(unhandled).toEqual([])
  })
})

describe('a gateway whose every event listener throws', () => {
  it('logs each error and still serves: forked workers join, a client gets all its commands back, a malformed message is counted, and close() resolves', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cgw-listeners-'))
    try {
      const { logger, lines } = linesLogger()
      const unhandled = await unhandledDuring(async () => {
        const map = join(dir, 'map.txt')
        await writeFile(map, Array.from({ length: 64 }, (_, i) => `10.0.0.${i}:foo:${i}:0`).join('\n') + '\n')
        const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', mapFile: map, minWorkers: 1, maxWorkers: 1, logger })
        gateways.push(gateway)
        const raised: string[] = []
        const events = ['worker:spawn', 'worker:ready', 'worker:exit', 'malformed', 'closing', 'closed'] as const
        for (const event of events) {
          gateway.on(event, () => {
            raised.push(event)
            throw new Error(`${event} listener broke`)
          })
        }
        await gateway.start()
        await waitFor(() => raised.includes('worker:ready'), 'the forked worker to be ready')
        const garbage = track(new Push({ linger: 0 }))
        garbage.connect(gateway.endpoint)
        await garbage.send([Buffer.from('not a header')])
        await waitFor(() => gateway.stats.malformed === 1, 'the malformed message to be counted')
        const client = new Client({ servers: [gateway.endpoint], bind: 'tcp://127.0.0.1:*' })
        const summary = await client.run(Array.from({ length: 64 }, (_, i) => ({ address: `10.0.0.${i}`, command: 'foo' })))
        expect(summary.counts.ok).toBe(64)
        const pids = gateway.workerPids
        await gateway.close()
        await expectAllGone(pids)
        for (const event of events) expect(raised).toContain(event)
        for (const event of ['worker:ready', 'malformed', 'closing']) expect(lines.some((line) => line.includes(`${event} listener broke`))).toBe(true)
      })
      expect(unhandled).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
