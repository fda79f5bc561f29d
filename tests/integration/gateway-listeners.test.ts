/**
 * A gateway whose event listener throws, on real sockets. A send to a worker
 * that has gone fails on a later turn; the gateway then loses that worker and
 * raises worker:lost from inside the send's failure handler, where a throwing
 * listener used to become an unhandled rejection (which ends the process).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { Gateway } from '../../dist/index.js'
import { HandWorker, type Track } from '../helpers/hand-peers.js'
import { waitFor } from '../helpers/processes.js'

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
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const lines: string[] = []
      const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) })
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
      expect(unhandled).toEqual([])
      expect(lines.some((line) => line.includes('listener broke'))).toBe(true)
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})
