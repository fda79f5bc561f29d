/**
 * The monitoring listener (`--http`) against peers that do not play fair,
 * on real sockets: connections that send a bad request and never close
 * their side, connections that send nothing or half a request, and a
 * gateway closed while such connections (and keep-alive ones) are open.
 * Every peer here is a raw TCP socket, so nothing of fetch's own pool
 * muddles what the listener holds.
 */
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Gateway } from '../../dist/index.js'
import { HttpEndpoint } from '../../src/http/http-endpoint.js'
import { silentLogger } from '../../src/log.js'
import { withDeadline } from '../helpers/independent-cgp.js'
import { waitFor } from '../helpers/processes.js'
import { extraResources, resourceCounts } from '../helpers/resources.js'

const peers: Socket[] = []
const gateways: Gateway[] = []
const endpoints: HttpEndpoint[] = []

afterEach(async () => {
  for (const peer of peers.splice(0)) peer.destroy()
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close({ force: true })))
  await Promise.all(endpoints.splice(0).map((endpoint) => endpoint.close()))
})

interface Peer {
  readonly socket: Socket
  /** Everything the listener sent. */
  text(): string
  /** Resolves when the listener ended its side (FIN or reset). */
  readonly ended: Promise<void>
}

/** A raw connection that sends `request` and, being half-open, keeps its own side open after the listener's FIN. */
function peer(url: string, request: string): Peer {
  const { hostname, port } = new URL(url)
  const socket = connect({ host: hostname, port: Number(port), allowHalfOpen: true })
  peers.push(socket)
  let received = ''
  socket.on('data', (chunk: Buffer) => void (received += chunk.toString('latin1')))
  socket.on('error', () => undefined)
  const ended = new Promise<void>((resolve) => {
    socket.once('end', resolve)
    socket.once('close', resolve)
  })
  socket.on('connect', () => {
    if (request !== '') socket.write(request)
  })
  return { socket, text: () => received, ended }
}

/** One GET on its own connection; resolves with the status line, or the error's code. */
async function get(url: string, path: string): Promise<string> {
  const p = peer(url, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
  const failed = new Promise<void>((resolve) => p.socket.once('error', () => resolve()))
  await withDeadline(Promise.race([p.ended, failed]), 5000, `an answer to GET ${path}`)
  return p.text().split('\r\n')[0] || 'no answer'
}

describe('a gateway with --http, against hostile connections', () => {
  it('frees the slot of a peer that sent a bad request and never closes its side: 64 of them do not lock scrapers out', async () => {
    const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', maxWorkers: 0, http: 0 })
    gateways.push(gateway)
    await gateway.start()
    const url = gateway.httpUrl!
    // As many as the listener takes at once, each with a request line it cannot parse.
    const bad = Array.from({ length: 64 }, () => peer(url, 'NOT HTTP AT ALL\r\n\r\n'))
    await withDeadline(Promise.all(bad.map((p) => p.ended)), 5000, 'every bad request to be answered')
    expect(bad.every((p) => p.text().startsWith('HTTP/1.1 400 '))).toBe(true)
    expect(await get(url, '/metrics')).toBe('HTTP/1.1 200 OK')
  })

  it('cuts off a peer that pipelines 200 requests in one write, after at most 4 answers; one request at a time on a kept-alive connection is served on', async () => {
    const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', maxWorkers: 0, http: 0 })
    gateways.push(gateway)
    await gateway.start()
    const url = gateway.httpUrl!
    const flood = peer(url, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(200))
    await withDeadline(flood.ended, 5000, 'the pipelining peer to be cut off')
    expect(flood.text().split('HTTP/1.1 200 OK').length - 1).toBeLessThanOrEqual(4)
    // A scraper that waits for each answer before it asks again is never cut off.
    const kept = peer(url, '')
    for (let i = 1; i <= 10; i++) {
      kept.socket.write('GET /status.json HTTP/1.1\r\nHost: x\r\n\r\n')
      await waitFor(() => kept.text().split('HTTP/1.1 200 OK').length - 1 === i && kept.text().endsWith('\n'), `answer ${i} on the kept-alive connection`)
    }
  })

  it('closes with keep-alive, half-sent and bad-request connections open, promptly and leaving no socket or timer', async () => {
    const before = resourceCounts()
    const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', maxWorkers: 0, http: 0 })
    gateways.push(gateway)
    await gateway.start()
    const url = gateway.httpUrl!
    const kept = peer(url, 'GET /status.json HTTP/1.1\r\nHost: x\r\n\r\n')
    await waitFor(() => kept.text().includes('\r\n\r\n'), 'the keep-alive answer')
    const half = peer(url, 'GET /metrics HTTP/1.1\r\nHost: x\r\n')
    const bad = peer(url, 'NOT HTTP\r\n\r\n')
    await withDeadline(bad.ended, 5000, 'the bad request to be answered')
    await waitFor(() => half.socket.bytesWritten > 0, 'the half request to be sent')
    const started = Date.now()
    await withDeadline(gateway.close(), 3000, 'the gateway to close')
    expect(Date.now() - started).toBeLessThan(2000)
    await withDeadline(Promise.all([kept.ended, half.ended]), 3000, 'the listener to drop its connections')
    for (const p of [kept, half, bad]) p.socket.destroy()
    // The listener's sockets and timers, and these peers, are all gone.
    await waitFor(() => Object.keys(extraResources(before)).length === 0, `no handle left (extra: ${JSON.stringify(extraResources(before))})`, 3000)
  })
})

describe('HttpEndpoint request timeout', () => {
  it('closes a silent connection and one that sent half its headers with 408, soon after the timeout (not 30 s later)', async () => {
    const endpoint = new HttpEndpoint({ host: '127.0.0.1', port: 0 }, { '/': () => ({ contentType: 'text/plain', body: 'x' }) }, silentLogger(), { requestTimeoutMs: 300 })
    endpoints.push(endpoint)
    const url = await endpoint.start()
    const silent = peer(url, '')
    const half = peer(url, 'GET / HTTP/1.1\r\nHost: x\r\n')
    await withDeadline(Promise.all([silent.ended, half.ended]), 3000, 'both slow connections to be closed')
    expect(silent.text()).toMatch(/^HTTP\/1\.1 408 /)
    expect(half.text()).toMatch(/^HTTP\/1\.1 408 /)
  })
})
