/**
 * The `http` kind: a GET of the check's URL (see checks.md), OK when the
 * status is in `expect`. node:http and node:https rather than fetch, because
 * fetch follows redirects and a redirect could lead outside the `targets`
 * allow-list: here a 301 is just a status. The body is never kept: it is
 * drained up to a bound so the connection can be reused, and past the bound
 * the connection is destroyed.
 *
 * Connections are kept alive in one agent per runner, a bounded number per
 * host, so thousands of checks against a device reuse a few sockets. Idle
 * ones do not hold the process open and close after `idleSocketMs`;
 * `close()` destroys them all.
 */
import { Agent as HttpAgent, get as httpGet, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http'
import { Agent as HttpsAgent, get as httpsGet } from 'node:https'
import { errorCode, errorMessage } from '../../errors.js'
import { watchRun } from './run-watch.js'
import { substituteUrl } from './substitute.js'
import { CheckState, type CheckRun, type CheckValue, type HttpCheck, type RunCheck } from './types.js'

export interface HttpRunnerOptions {
  /** Connections open at once to one host and port; more requests wait for one. @default 64 */
  readonly maxSocketsPerHost?: number
  /** Connections open at once over all hosts. @default 1024 */
  readonly maxTotalSockets?: number
  /** Milliseconds an idle kept-alive connection stays open; shorter than the usual 5 s of servers, so the server rarely closes one as it is reused. @default 4000 */
  readonly idleSocketMs?: number
  /** Body bytes read and thrown away so the connection can be reused; past this it is destroyed instead. @default 65536 */
  readonly maxDrainBytes?: number
}

export const httpRunnerDefaults = {
  maxSocketsPerHost: 64,
  maxTotalSockets: 1024,
  idleSocketMs: 4000,
  maxDrainBytes: 65_536,
} as const satisfies Required<HttpRunnerOptions>

/** Runs `http` checks over its own kept-alive connections. */
export interface HttpRunner {
  /**
   * GETs `substituteUrl(check.url, run.address)`. Resolves OK or CRITICAL
   * with `HTTP 200`, or CRITICAL with the code of a connection error
   * (`ECONNREFUSED`, …); rejects with `CommandTimeoutError` after
   * `run.timeoutMs`, with the signal's reason, or with an error for a URL
   * that is not http: or https:.
   */
  readonly run: RunCheck<HttpCheck>
  /** Destroys every connection, idle or in use; checks run afterwards reject. Idempotent. */
  close(): void
}

/**
 * Makes a runner; the checks executor makes one and closes it when it closes.
 *
 * @example
 * const http = createHttpRunner()
 * await http.run({ kind: 'http', url: 'http://{address}:8080/health', expect: 'default' }, run) // { state: 0, output: 'HTTP 200', ms: 1.9 }
 * http.close()
 */
export function createHttpRunner(options: HttpRunnerOptions = {}): HttpRunner {
  const settings = { ...httpRunnerDefaults, ...options }
  const agentOptions = {
    keepAlive: true,
    maxSockets: settings.maxSocketsPerHost,
    maxFreeSockets: settings.maxSocketsPerHost,
    maxTotalSockets: settings.maxTotalSockets,
    timeout: settings.idleSocketMs,
  }
  const agents = { 'http:': new HttpAgent(agentOptions), 'https:': new HttpsAgent(agentOptions) }
  let closed = false
  return {
    run: (check, run) => {
      if (closed) return Promise.reject(new Error('the http checks are closed'))
      if (run.signal.aborted) return Promise.reject(run.signal.reason)
      let url: URL
      try {
        url = substituteUrl(check.url, run.address)
      } catch {
        return Promise.reject(new Error(`not a valid URL: ${check.url} with address ${run.address}`))
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new Error(`not an http: or https: URL: ${url.href}`))
      const get = url.protocol === 'http:' ? httpGet : httpsGet
      return probe(url, { agent: agents[url.protocol], headers: { accept: '*/*', 'user-agent': 'cgw-check' } }, get, check, run, settings.maxDrainBytes)
    },
    close: () => {
      closed = true
      agents['http:'].destroy()
      agents['https:'].destroy()
    },
  }
}

type Get = (url: URL, options: RequestOptions) => ClientRequest

function isExpected(check: HttpCheck, status: number): boolean {
  return check.expect === 'default' ? status >= 200 && status <= 399 : check.expect.has(status)
}

/** One check: a GET, once more if a kept-alive connection turned out to be closed by the server. */
function probe(url: URL, options: RequestOptions, get: Get, check: HttpCheck, run: CheckRun, maxDrainBytes: number): Promise<CheckValue> {
  return new Promise((resolve, reject) => {
    /** How the check ends, decided by whichever comes first and carried out once the request has closed. */
    let outcome: (() => void) | undefined
    let settled = false
    let retried = false
    let request: ClientRequest
    const decide = (how: () => void): void => {
      outcome ??= how
    }
    const settle = (): void => {
      if (settled || outcome === undefined) return
      settled = true
      watch.dispose()
      outcome()
    }
    const critical = (output: string): void => decide(() => resolve({ state: CheckState.Critical, output, ms: watch.elapsedMs() }))

    const send = (): void => {
      try {
        request = get(url, options)
      } catch (error) {
        critical(errorCode(error) ?? errorMessage(error))
        settle()
        return
      }
      const current = request
      let retrying = false
      current.once('response', (response: IncomingMessage) => {
        const status = response.statusCode ?? 0
        decide(() => resolve({ state: isExpected(check, status) ? CheckState.Ok : CheckState.Critical, output: `HTTP ${status}`, ms: watch.elapsedMs() }))
        let drained = 0
        response.on('data', (chunk: Buffer) => {
          drained += chunk.length
          if (drained > maxDrainBytes) current.destroy()
        })
        // A body cut short ('aborted') changes nothing: the status was all the check needed.
        response.on('error', () => undefined)
      })
      current.on('error', (error) => {
        // The server may close a kept-alive connection just as it is reused; a GET can safely go again, once.
        if (outcome === undefined && !retried && current.reusedSocket && errorCode(error) === 'ECONNRESET') {
          retried = retrying = true
          return
        }
        critical(errorCode(error) ?? errorMessage(error))
      })
      // After a response is read to its end the connection goes back to the agent; otherwise it has been destroyed.
      current.once('close', () => (retrying && outcome === undefined ? send() : settle()))
    }

    const watch = watchRun(run, (reason) => {
      // A status already read stays the answer; only a body still coming is cut off.
      decide(() => reject(reason))
      // A request still waiting for a connection gets no 'close' until one frees up: it has no socket to wait for.
      const waiting = request.socket === null || request.socket === undefined
      request.destroy()
      if (waiting) settle()
    })
    send()
  })
}
