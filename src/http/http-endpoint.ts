/**
 * A small, read-only HTTP listener for monitoring: a fixed table of GET
 * routes (`/metrics`, `/status.json`, the dashboard). Whoever can reach it
 * is untrusted, like any peer: no request body is read, paths outside the
 * table are 404, methods other than GET and HEAD are 405, connections and
 * header sizes are bounded, and every reply carries headers that stop a
 * browser from sniffing, framing or caching it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { ConfigError, errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import type { HttpListen } from '../options/kinds.js'

/** What a route answers. */
export interface HttpReply {
  /** @default 200 */
  readonly status?: number
  readonly contentType: string
  readonly body: string | Buffer
  /** Extra headers, such as the dashboard's Content-Security-Policy. */
  readonly headers?: Readonly<Record<string, string>>
}

/** A route: called once per GET (or HEAD) of its exact path; the query string is ignored. */
export type HttpRoute = () => HttpReply | Promise<HttpReply>

export type HttpRoutes = Readonly<Record<string, HttpRoute>>

/** Headers every reply carries. A route's own headers (a CSP for its HTML) replace these where they overlap. */
const BASE_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
}

/** Scrapers and a few dashboards; a connection past this is closed as soon as it is accepted. */
const MAX_CONNECTIONS = 64
const MAX_HEADER_BYTES = 8 * 1024
const REQUEST_TIMEOUT_MS = 10_000
/**
 * Requests one connection may have unanswered at once. Browsers and scrapers
 * send one at a time; a peer that pipelines past this (and perhaps never
 * reads) is cut off, so one write of requests cannot make the process build
 * thousands of replies (8 such writes once held 600 MB and stalled the loop for 4 s).
 */
const MAX_PIPELINED = 4

/** Bounds a test may shorten; the defaults are the product's. */
export interface HttpLimits {
  /** A request (headers included) must arrive within this, or its connection is closed. @default 10 000 */
  readonly requestTimeoutMs?: number
}

export class HttpEndpoint {
  private readonly server: Server
  private bound: { host: string; port: number } | undefined
  /** Unanswered requests per connection (see {@link MAX_PIPELINED}). */
  private readonly pending = new WeakMap<Socket, number>()

  constructor(
    private readonly listen: HttpListen,
    private readonly routes: HttpRoutes,
    private readonly logger: Logger,
    limits: HttpLimits = {},
  ) {
    const timeout = limits.requestTimeoutMs ?? REQUEST_TIMEOUT_MS
    // Node checks these timeouts only every connectionsCheckingInterval (30 s by default), which
    // let a slow or silent connection hold one of the MAX_CONNECTIONS slots for up to 40 s.
    const checkEvery = Math.max(10, Math.min(1000, Math.floor(timeout / 2)))
    const options = { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: timeout, headersTimeout: timeout, connectionsCheckingInterval: checkEvery }
    this.server = createServer(options, (request, response) => {
      if (!this.admit(request.socket, response)) return
      this.answer(request, response).catch((error: unknown) => this.fail(response, error))
    })
    this.server.maxConnections = MAX_CONNECTIONS
    this.server.keepAliveTimeout = 5_000
    // A malformed request line, oversized headers or a request too slow: answer (unless a reply
    // was begun) and destroy the connection, never throw. Not end(): the server's sockets allow
    // half-open, so a peer that never closes its side would keep the connection, and its slot, for ever.
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      if (socket.writable && socket.bytesWritten === 0) socket.write(`HTTP/1.1 ${clientErrorStatus(error.code)}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
      socket.destroy()
    })
  }

  /** Binds; a port in use or a host not on this machine is a ConfigError (`ERR_ENDPOINT`). Resolves with the URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(new ConfigError('ERR_ENDPOINT', `cannot listen for HTTP on ${hostPort(this.listen)}: ${errorMessage(error)}`, { cause: error }))
      this.server.once('error', onError)
      this.server.listen(this.listen.port, this.listen.host, () => {
        this.server.off('error', onError)
        resolve()
      })
    })
    const address = this.server.address() as AddressInfo
    this.bound = { host: address.address, port: address.port }
    this.server.on('error', (error) => this.logger.warn({ err: errorMessage(error) }, 'HTTP listener error'))
    return this.url
  }

  /** `http://host:port` as bound (the real port when asked for 0); throws before {@link start}. */
  get url(): string {
    if (this.bound === undefined) throw new Error('HTTP endpoint not started')
    return `http://${hostPort(this.bound)}`
  }

  /** Stops listening and ends every open connection, keep-alive ones included. */
  async close(): Promise<void> {
    if (!this.server.listening) return
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    await closed
  }

  /** Counts the request against its connection; destroys a connection past {@link MAX_PIPELINED}. */
  private admit(socket: Socket, response: ServerResponse): boolean {
    const pending = (this.pending.get(socket) ?? 0) + 1
    if (pending > MAX_PIPELINED) {
      socket.destroy()
      return false
    }
    this.pending.set(socket, pending)
    // 'close': the reply was handed to the socket, or the connection died.
    response.once('close', () => this.pending.set(socket, (this.pending.get(socket) ?? 1) - 1))
    return true
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // The body, if any, is never read: resume so the socket is not held by unread bytes.
    request.resume()
    const method = request.method ?? ''
    if (method !== 'GET' && method !== 'HEAD') return this.send(response, method, { status: 405, contentType: 'text/plain; charset=utf-8', body: 'only GET and HEAD\n', headers: { allow: 'GET, HEAD' } })
    const path = (request.url ?? '/').split('?')[0]!
    const route = Object.hasOwn(this.routes, path) ? this.routes[path] : undefined
    if (route === undefined) return this.send(response, method, { status: 404, contentType: 'text/plain; charset=utf-8', body: 'not found\n' })
    this.send(response, method, await route())
  }

  private send(response: ServerResponse, method: string, reply: HttpReply): void {
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body
    response.writeHead(reply.status ?? 200, { ...BASE_HEADERS, ...reply.headers, 'content-type': reply.contentType, 'content-length': body.length })
    response.end(method === 'HEAD' ? undefined : body)
  }

  private fail(response: ServerResponse, error: unknown): void {
    this.logger.warn({ err: errorMessage(error) }, 'HTTP route failed')
    if (response.headersSent) response.destroy()
    else this.send(response, 'GET', { status: 500, contentType: 'text/plain; charset=utf-8', body: 'internal error\n' })
  }
}

function clientErrorStatus(code: string | undefined): string {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout'
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large'
  return '400 Bad Request'
}

function hostPort({ host, port }: { host: string; port: number }): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
