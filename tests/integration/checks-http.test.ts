/**
 * The `http` check kind (checks.md) against real HTTP servers on loopback:
 * OK when the status is in `expect` (default 200–399), CRITICAL otherwise or
 * on a connection error; no redirect followed; the body never kept; a timeout
 * or an abort destroys the connection; connections are kept alive, bounded
 * per host, and all closed by `close()`; nothing else is left behind.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createHttpRunner, type HttpRunner, type HttpRunnerOptions } from '../../dist/executors/checks/http.js'
import type { CheckRun, HttpCheck } from '../../dist/executors/checks/types.js'
import { freePort, waitFor } from '../helpers/processes.js'
import { extraResources, resourceCounts } from '../helpers/resources.js'
import { startStalledListener, type StalledListener } from '../helpers/stalled-listener.js'

function runOf(overrides: Partial<CheckRun> = {}): CheckRun {
  return { address: '127.0.0.1', command: 'web', timeoutMs: 5000, signal: new AbortController().signal, ...overrides }
}

function check(url: string, expect: HttpCheck['expect'] = 'default'): HttpCheck {
  return { kind: 'http', url, expect }
}

let runners: HttpRunner[] = []
let servers: (HttpServer | NetServer)[] = []
let stalled: StalledListener[] = []

beforeEach(() => {
  runners = []
  servers = []
  stalled = []
})

afterEach(async () => {
  for (const runner of runners) runner.close()
  await Promise.all(
    servers.map((server) => {
      if ('closeAllConnections' in server) server.closeAllConnections()
      return new Promise((resolve) => server.close(resolve))
    }),
  )
  await Promise.all(stalled.map((listener) => listener.close()))
})

function runner(options?: HttpRunnerOptions): HttpRunner {
  const made = createHttpRunner(options)
  runners.push(made)
  return made
}

interface TestServer {
  readonly port: number
  readonly requests: string[]
  /** Connections accepted, and how many of them have closed. */
  connections(): number
  closed(): number
  /** The most connections open at once. */
  peak(): number
}

function portOf(server: HttpServer | NetServer): number {
  const address = server.address()
  return typeof address === 'object' && address !== null ? address.port : 0
}

/** Counts connections on any server, and their closes. */
function countConnections(server: HttpServer | NetServer): Omit<TestServer, 'port' | 'requests'> {
  let connections = 0
  let closed = 0
  let peak = 0
  server.on('connection', (socket: Socket) => {
    connections += 1
    peak = Math.max(peak, connections - closed)
    socket.once('close', () => (closed += 1))
  })
  return { connections: () => connections, closed: () => closed, peak: () => peak }
}

/**
 * An HTTP server: `/status/N` answers N with a small body, `/hang` never
 * answers, `/big` sends 1 MiB, `/redirect?to=URL` answers 301 to URL,
 * `/slow-body` sends its headers and then nothing.
 */
async function httpServer(host = '127.0.0.1'): Promise<TestServer> {
  const requests: string[] = []
  const server = createHttpServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://x')
    requests.push(url.pathname)
    if (url.pathname === '/hang') return
    if (url.pathname === '/slow-body') {
      response.writeHead(200, { 'content-length': '100' })
      response.flushHeaders()
      return
    }
    if (url.pathname === '/big') {
      response.writeHead(200, { 'content-type': 'application/octet-stream' })
      response.end(Buffer.alloc(1024 * 1024, 0x61))
      return
    }
    if (url.pathname === '/redirect') {
      response.writeHead(301, { location: url.searchParams.get('to') ?? '/' })
      response.end()
      return
    }
    const status = Number(url.pathname.split('/')[2] ?? 200)
    response.writeHead(status)
    response.end(status === 204 ? undefined : `status ${status}\n`)
  })
  servers.push(server)
  const counts = countConnections(server)
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return { port: portOf(server), requests, ...counts }
}

describe('an http check that gets a status', () => {
  it.each([
    { status: 200, state: 0 },
    { status: 204, state: 0 },
    { status: 302, state: 0 },
    { status: 399, state: 0 },
    { status: 400, state: 2 },
    { status: 404, state: 2 },
    { status: 503, state: 2 },
  ])('HTTP $status is state $state with the default expect (200–399)', async ({ status, state }) => {
    const server = await httpServer()
    const value = await runner().run(check(`http://{address}:${server.port}/status/${status}`), runOf())
    expect(value).toEqual({ state, output: `HTTP ${status}`, ms: expect.any(Number) })
    expect(server.requests).toEqual([`/status/${status}`])
  })

  it.each([
    { status: 204, state: 0 },
    { status: 200, state: 0 },
    { status: 302, state: 2 },
    { status: 503, state: 2 },
  ])('HTTP $status is state $state when expect is [200, 204]', async ({ status, state }) => {
    const server = await httpServer()
    const value = await runner().run(check(`http://{address}:${server.port}/status/${status}`, new Set([200, 204])), runOf())
    expect(value).toEqual({ state, output: `HTTP ${status}`, ms: expect.any(Number) })
  })

  it('follows no redirect: a 301 is its own status, and the target is never asked', async () => {
    const target = await httpServer()
    const server = await httpServer()
    const to = `http://127.0.0.1:${target.port}/status/200`
    const value = await runner().run(check(`http://{address}:${server.port}/redirect?to=${encodeURIComponent(to)}`, new Set([200])), runOf())
    expect(value.output).toBe('HTTP 301')
    expect(value.state).toBe(2)
    expect(target.connections()).toBe(0)
  })

  it('keeps no body: past 64 KiB it stops reading and drops the connection, and the status stands', async () => {
    const server = await httpServer()
    const value = await runner().run(check(`http://{address}:${server.port}/big`), runOf())
    expect(value).toEqual({ state: 0, output: 'HTTP 200', ms: expect.any(Number) })
    await waitFor(() => server.closed() === 1, 'the server to see the connection dropped', 2000)
  })

  it('answers with the status when the body stalls, once the time limit cuts it off', async () => {
    const server = await httpServer()
    const before = resourceCounts()
    const value = await runner().run(check(`http://{address}:${server.port}/slow-body`), runOf({ timeoutMs: 300 }))
    expect(value).toEqual({ state: 0, output: 'HTTP 200', ms: expect.any(Number) })
    // The check lasted until the body was cut off.
    expect(value.ms).toBeGreaterThanOrEqual(290)
    await waitFor(() => server.closed() === 1, 'the server to see the connection destroyed', 2000)
    expect(extraResources(before)).toEqual({})
  })

  it('puts an IPv6 {address} in brackets', async () => {
    const server = await httpServer('::1')
    const value = await runner().run(check(`http://{address}:${server.port}/status/200`), runOf({ address: '::1' }))
    expect(value.output).toBe('HTTP 200')
  })
})

describe('an http check that gets no status', () => {
  it('is CRITICAL ECONNREFUSED on a port nobody listens on', async () => {
    const port = await freePort()
    const before = resourceCounts()
    const value = await runner().run(check(`http://{address}:${port}/`), runOf())
    expect(value).toEqual({ state: 2, output: 'ECONNREFUSED', ms: expect.any(Number) })
    expect(extraResources(before)).toEqual({})
  })

  it('is CRITICAL with the parser’s code for an answer that is not HTTP within bounds (16 KiB of headers)', async () => {
    const server = createNetServer((socket) => {
      socket.on('error', () => undefined)
      // Read on, or this end never notices the client hang up and close() waits for it.
      socket.resume()
      socket.end(`HTTP/1.1 200 OK\r\nx-junk: ${'a'.repeat(20_000)}\r\n\r\n`)
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const value = await runner().run(check(`http://{address}:${portOf(server)}/`), runOf())
    expect(value).toEqual({ state: 2, output: 'HPE_HEADER_OVERFLOW', ms: expect.any(Number) })
  })

  it('verifies https certificates: a self-signed one is CRITICAL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cgw-tls-'))
    try {
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' })
      expect(made.status).toBe(0)
      const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_request, response) => response.end('ok'))
      server.on('tlsClientError', () => undefined)
      servers.push(server)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const value = await runner().run(check(`https://{address}:${portOf(server)}/`), runOf())
      expect(value).toEqual({ state: 2, output: 'DEPTH_ZERO_SELF_SIGNED_CERT', ms: expect.any(Number) })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('fails, reaching nothing, for a URL that is not http: or https:', async () => {
    await expect(runner().run(check('ftp://{address}/status'), runOf())).rejects.toThrow('not an http: or https: URL: ftp://127.0.0.1/status')
  })

  it('fails for a URL that does not parse with the address in it', async () => {
    await expect(runner().run(check('http://{address}:99999/'), runOf())).rejects.toThrow(/^not a valid URL: /)
  })
})

describe('an http check that runs out of time or is aborted', () => {
  it('rejects with CommandTimeoutError when the server never answers, and the connection is destroyed', async () => {
    const server = await httpServer()
    const before = resourceCounts()
    const started = performance.now()
    await expect(runner().run(check(`http://{address}:${server.port}/hang`), runOf({ timeoutMs: 300, command: 'web' }))).rejects.toMatchObject({
      code: 'ERR_COMMAND_TIMEOUT',
      message: '127.0.0.1:web timed out after 300 ms',
    })
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    await waitFor(() => server.closed() === 1, 'the server to see the connection closed', 2000)
    expect(extraResources(before)).toEqual({})
  })

  it('rejects with CommandTimeoutError when the connect itself hangs', async () => {
    const listener = await startStalledListener()
    stalled.push(listener)
    const before = resourceCounts()
    await expect(runner().run(check(`http://{address}:${listener.port}/`), runOf({ timeoutMs: 300 }))).rejects.toMatchObject({ code: 'ERR_COMMAND_TIMEOUT' })
    expect(extraResources(before)).toEqual({})
  })

  it('rejects with the signal’s reason on abort, and the connection is destroyed', async () => {
    const server = await httpServer()
    const before = resourceCounts()
    const controller = new AbortController()
    const running = runner().run(check(`http://{address}:${server.port}/hang`), runOf({ signal: controller.signal }))
    await waitFor(() => server.requests.length === 1, 'the request to arrive', 2000)
    const reason = new Error('cancelled')
    controller.abort(reason)
    await expect(running).rejects.toBe(reason)
    await waitFor(() => server.closed() === 1, 'the server to see the connection closed', 2000)
    expect(extraResources(before)).toEqual({})
  })

  it('rejects at once on abort while waiting for a free connection', async () => {
    const server = await httpServer()
    const http = runner({ maxSocketsPerHost: 1 })
    const holding = new AbortController()
    const first = http.run(check(`http://{address}:${server.port}/hang`), runOf({ signal: holding.signal }))
    await waitFor(() => server.requests.length === 1, 'the first request to arrive', 2000)
    const controller = new AbortController()
    const queued = http.run(check(`http://{address}:${server.port}/status/200`), runOf({ signal: controller.signal }))
    const reason = new Error('cancelled while queued')
    controller.abort(reason)
    await expect(queued).rejects.toBe(reason)
    holding.abort(new Error('done'))
    await expect(first).rejects.toThrow('done')
    expect(server.requests).toEqual(['/hang'])
  })

  it('rejects at once, opening nothing, when the signal has already fired', async () => {
    const server = await httpServer()
    const controller = new AbortController()
    controller.abort(new Error('too late'))
    await expect(runner().run(check(`http://{address}:${server.port}/status/200`), runOf({ signal: controller.signal }))).rejects.toThrow('too late')
    expect(server.connections()).toBe(0)
  })
})

describe('the connections of an http runner', () => {
  it('are kept alive and reused, and close() closes them', async () => {
    const server = await httpServer()
    const before = resourceCounts()
    const http = runner()
    for (let i = 0; i < 5; i++) expect((await http.run(check(`http://{address}:${server.port}/status/200`), runOf())).state).toBe(0)
    expect(server.connections()).toBe(1)
    expect(server.closed()).toBe(0)
    http.close()
    await waitFor(() => server.closed() === 1, 'the server to see the kept-alive connection closed', 2000)
    expect(extraResources(before)).toEqual({})
    await expect(http.run(check(`http://{address}:${server.port}/status/200`), runOf())).rejects.toThrow('the http checks are closed')
  })

  it('are at most maxSocketsPerHost to one host, however many checks run at once', async () => {
    const server = await httpServer()
    const http = runner({ maxSocketsPerHost: 3 })
    const values = await Promise.all(Array.from({ length: 30 }, () => http.run(check(`http://{address}:${server.port}/status/200`), runOf())))
    expect(values.every((value) => value.output === 'HTTP 200')).toBe(true)
    expect(server.peak()).toBe(3)
    expect(server.connections()).toBe(3)
  })

  it('go again, once, on a fresh connection when the server dropped a kept-alive one as it was reused', async () => {
    // Answers the first request of each connection and drops the connection at its second.
    const server = createNetServer((socket) => {
      let requests = 0
      let text = ''
      socket.on('error', () => undefined)
      socket.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk
        while (text.includes('\r\n\r\n')) {
          text = text.slice(text.indexOf('\r\n\r\n') + 4)
          requests += 1
          if (requests === 1) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n')
          else socket.destroy()
        }
      })
    })
    servers.push(server)
    const counts = countConnections(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const http = runner()
    const url = `http://{address}:${portOf(server)}/`
    expect((await http.run(check(url), runOf())).output).toBe('HTTP 200')
    expect((await http.run(check(url), runOf())).output).toBe('HTTP 200')
    expect(counts.connections()).toBe(2)
  })
})
