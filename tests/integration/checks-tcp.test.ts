/**
 * The `tcp` check kind (checks.md) against real listeners on 127.0.0.1: OK on
 * connect, CRITICAL with the error code when refused; a timeout or an abort
 * destroys the socket; the socket is closed (the listener sees it go) and no
 * socket or timer is left once the check has settled.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runTcp } from '../../dist/executors/checks/tcp.js'
import type { CheckRun } from '../../dist/executors/checks/types.js'
import { freePort, waitFor } from '../helpers/processes.js'
import { extraResources, resourceCounts } from '../helpers/resources.js'
import { startStalledListener, type StalledListener } from '../helpers/stalled-listener.js'

function runOf(overrides: Partial<CheckRun> = {}): CheckRun {
  return { address: '127.0.0.1', command: 'ssh', timeoutMs: 5000, signal: new AbortController().signal, ...overrides }
}

let servers: Server[] = []
let stalled: StalledListener[] = []

beforeEach(() => {
  servers = []
  stalled = []
})

afterEach(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  await Promise.all(stalled.map((listener) => listener.close()))
})

/** A listener that counts the connections it accepted and the ones that have closed since. */
async function listener(): Promise<{ port: number; accepted: () => number; closed: () => number }> {
  let accepted = 0
  let closed = 0
  const server = createServer((socket: Socket) => {
    accepted += 1
    socket.on('error', () => undefined)
    socket.once('close', () => (closed += 1))
    socket.resume()
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return { port: typeof address === 'object' && address !== null ? address.port : 0, accepted: () => accepted, closed: () => closed }
}

async function stalledPort(): Promise<number> {
  const listener = await startStalledListener()
  stalled.push(listener)
  return listener.port
}

describe('a tcp check against a listening port', () => {
  it('is OK with the connect time, and closes the connection at once', async () => {
    const server = await listener()
    const before = resourceCounts()
    const value = await runTcp({ kind: 'tcp', port: server.port }, runOf())
    expect(value.state).toBe(0)
    expect(value.output).toMatch(/^connected in \d+ ms$/)
    expect(value.ms).toBeGreaterThan(0)
    expect(value).not.toHaveProperty('perfdata')
    await waitFor(() => server.closed() === 1, 'the listener to see the connection close', 2000)
    expect(server.accepted()).toBe(1)
    expect(extraResources(before)).toEqual({})
  })
})

describe('a tcp check that cannot connect', () => {
  it('is CRITICAL ECONNREFUSED on a port nobody listens on', async () => {
    const port = await freePort()
    const before = resourceCounts()
    const value = await runTcp({ kind: 'tcp', port }, runOf())
    expect(value).toEqual({ state: 2, output: 'ECONNREFUSED', ms: expect.any(Number) })
    expect(extraResources(before)).toEqual({})
  })

  it('rejects with CommandTimeoutError when the connect hangs, and leaves no socket or timer', async () => {
    const port = await stalledPort()
    const before = resourceCounts()
    const started = performance.now()
    await expect(runTcp({ kind: 'tcp', port }, runOf({ timeoutMs: 300, address: '127.0.0.1', command: 'ssh' }))).rejects.toMatchObject({
      code: 'ERR_COMMAND_TIMEOUT',
      message: '127.0.0.1:ssh timed out after 300 ms',
    })
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    expect(extraResources(before)).toEqual({})
  })

  it('rejects with the signal’s reason on abort while connecting, and leaves no socket or timer', async () => {
    const port = await stalledPort()
    const before = resourceCounts()
    const controller = new AbortController()
    const running = runTcp({ kind: 'tcp', port }, runOf({ signal: controller.signal }))
    await waitFor(() => process.getActiveResourcesInfo().includes('ConnectWrap'), 'the connect to be under way', 2000)
    const reason = new Error('cancelled')
    controller.abort(reason)
    await expect(running).rejects.toBe(reason)
    expect(extraResources(before)).toEqual({})
  })

  it('rejects at once, opening nothing, when the signal has already fired', async () => {
    const server = await listener()
    const before = resourceCounts()
    const controller = new AbortController()
    controller.abort(new Error('too late'))
    const running = runTcp({ kind: 'tcp', port: server.port }, runOf({ signal: controller.signal }))
    // Checked before the rejection is awaited: a connect begun would show now.
    expect(extraResources(before)).toEqual({})
    await expect(running).rejects.toThrow('too late')
    expect(server.accepted()).toBe(0)
  })
})
