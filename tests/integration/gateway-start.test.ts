/**
 * What a library user sees of a gateway as it starts: the events it raises
 * while `start()` runs reach listeners attached right after `await start()`,
 * and `workersEndpoint` names the port actually bound, so workers (forked or
 * remote) can connect to it. Real sockets and real forked workers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Gateway, Worker, type GatewayEvents } from '../../dist/index.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { expectAllGone, waitFor } from '../helpers/processes.js'
import { extraResources, resourceCounts } from '../helpers/resources.js'
import { Pull } from 'zeromq'

let files: Fixtures
const gateways: Gateway[] = []
const workers: Worker[] = []
const workerPids: number[] = []

beforeEach(async () => {
  files = await fixtures()
})

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.close({ force: true })))
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close({ force: true })))
  await expectAllGone(workerPids.splice(0))
  await files.remove()
})

function track(gateway: Gateway): Gateway {
  gateways.push(gateway)
  gateway.on('worker:spawn', ({ pid }) => workerPids.push(pid))
  return gateway
}

describe('a listener attached right after await gateway.start()', () => {
  it('still receives listening, the first worker:spawn and that worker\'s worker:ready', async () => {
    const { map } = await files.seed(2, 0)
    const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', mapFile: map, minWorkers: 1, maxWorkers: 1 })
    gateways.push(gateway)
    await gateway.start()
    const seen: { [K in keyof GatewayEvents]?: GatewayEvents[K][0] } = {}
    gateway.on('listening', (endpoints) => (seen.listening = endpoints))
    gateway.on('worker:spawn', (worker) => {
      seen['worker:spawn'] = worker
      workerPids.push(worker.pid)
    })
    gateway.on('worker:ready', (worker) => (seen['worker:ready'] = worker))
    await waitFor(() => seen['worker:ready'] !== undefined && seen.listening !== undefined && seen['worker:spawn'] !== undefined, 'all three events')
    expect(seen.listening).toEqual({ endpoint: gateway.endpoint, workersEndpoint: gateway.workersEndpoint })
    expect(gateway.workerPids).toEqual([seen['worker:spawn']!.pid])
    expect(seen['worker:ready']!.id).toBe(seen['worker:spawn']!.id)
  })
})

describe('workersEndpoint', () => {
  it('names the port actually bound for tcp://127.0.0.1:*, where a remote worker can join; before start() it throws', async () => {
    const gateway = track(new Gateway({ bind: 'tcp://127.0.0.1:*', workersBind: 'tcp://127.0.0.1:*', maxWorkers: 0 }))
    expect(() => gateway.workersEndpoint).toThrow(/not started/)
    await gateway.start()
    expect(gateway.workersEndpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:[0-9]+$/)
    expect(gateway.status().workersEndpoint).toBe(gateway.workersEndpoint)
    const worker = new Worker({ gateway: gateway.workersEndpoint, executor: () => Promise.resolve(1), id: 'remote' })
    workers.push(worker)
    worker.start()
    await waitFor(() => gateway.connectedWorkers === 1, 'the remote worker to join')
  })

  it('is where forked workers connect when the worker port is bound to :*', async () => {
    const { map } = await files.seed(2, 0)
    const gateway = track(new Gateway({ bind: 'tcp://127.0.0.1:*', workersBind: 'tcp://127.0.0.1:*', mapFile: map, minWorkers: 1, maxWorkers: 1 }))
    await gateway.start()
    await waitFor(() => gateway.connectedWorkers === 1, 'the forked worker to join')
  })

  it('is the configured endpoint before start() when that is already concrete', async () => {
    const gateway = track(new Gateway({ bind: 'tcp://127.0.0.1:*', maxWorkers: 0 }))
    const before = gateway.workersEndpoint
    expect(before).toMatch(/^ipc:\/\//)
    await gateway.start()
    expect(gateway.workersEndpoint).toBe(before)
  })
})

describe('a gateway whose intake cannot bind', () => {
  it('rejects start() naming the endpoint, forks no worker, and leaves no socket or timer that keeps the process alive', async () => {
    const taken = new Pull({ linger: 0 })
    await taken.bind('tcp://127.0.0.1:*')
    try {
      const before = resourceCounts()
      const { map } = await files.seed(4, 0)
      const gateway = track(new Gateway({ bind: taken.lastEndpoint!, mapFile: map, minWorkers: 1, maxWorkers: 1 }))
      const spawned: number[] = []
      gateway.on('worker:spawn', ({ pid }) => spawned.push(pid))
      await expect(gateway.start()).rejects.toThrow(taken.lastEndpoint!)
      expect(spawned).toEqual([])
      expect(gateway.workerPids).toEqual([])
      await waitFor(() => Object.keys(extraResources(before)).length === 0, `nothing left: ${JSON.stringify(extraResources(before))}`, 2000)
    } finally {
      taken.close()
    }
  })
})
