/**
 * The dashboard's route table, served by a real HttpEndpoint on
 * 127.0.0.1:0: what each path answers (content types, the page's CSP),
 * that everything else is 404, and that the page's sources keep the rules
 * the CSP and the "no markup from the network" promise rely on.
 */
import { Script } from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import { HttpEndpoint } from '../../src/http/http-endpoint.js'
import { DASHBOARD_CSP, dashboardRoutes } from '../../src/dashboard/routes.js'
import { DASHBOARD_HTML } from '../../src/dashboard/page.js'
import { DASHBOARD_JS } from '../../src/dashboard/script.js'
import { DASHBOARD_CSS } from '../../src/dashboard/styles.js'
import { zeroStats } from '../../src/gateway/events.js'
import type { GatewayStatus } from '../../src/gateway/status.js'
import { silentLogger } from '../../src/log.js'

let endpoint: HttpEndpoint | undefined

afterEach(async () => {
  await endpoint?.close()
  endpoint = undefined
})

let calls = 0
function status(): GatewayStatus {
  calls++
  const stats = zeroStats()
  return {
    uptimeMs: 5000 + calls,
    endpoint: 'tcp://127.0.0.1:5557',
    workersEndpoint: 'ipc:///tmp/cgw-abc/w.sock',
    queue: { batches: 2, bytes: 64, heldBytes: 0, clients: [{ client: 'c1', batches: 2 }], clientCount: 1 },
    workers: [],
    pool: { forked: 0, starting: 0, retiring: 0, min: 0, max: 0 },
    counters: { ...stats, rejected: { ...stats.rejected }, refused: { ...stats.refused } },
    security: { curve: false },
    recent: { intervalMs: 1000, batchesPerSecond: [1, 2], receivedPerSecond: [2, 2] },
  }
}

async function serve(): Promise<string> {
  endpoint = new HttpEndpoint({ host: '127.0.0.1', port: 0 }, dashboardRoutes({ stats: zeroStats(), status }), silentLogger())
  return endpoint.start()
}

describe('the dashboard routes', () => {
  it.each([
    ['/', 'text/html; charset=utf-8', '<!doctype html>'],
    ['/dashboard.js', 'text/javascript; charset=utf-8', "'use strict';"],
    ['/dashboard.css', 'text/css; charset=utf-8', ':root {'],
    ['/status.json', 'application/json; charset=utf-8', '{"uptimeMs":'],
  ])('GET %s answers %s', async (path, contentType, start) => {
    const url = await serve()
    const response = await fetch(`${url}${path}`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe(contentType)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect((await response.text()).startsWith(start)).toBe(true)
  })

  it("gives the page its strict CSP, and leaves the assets the endpoint's default-src 'none'", async () => {
    const url = await serve()
    expect(DASHBOARD_CSP).toBe("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    expect((await fetch(`${url}/`)).headers.get('content-security-policy')).toBe(DASHBOARD_CSP)
    for (const path of ['/dashboard.js', '/dashboard.css', '/status.json']) {
      expect((await fetch(`${url}${path}`)).headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'")
    }
  })

  it('serves /status.json as the status view itself, read afresh on each request', async () => {
    const url = await serve()
    const first = (await (await fetch(`${url}/status.json`)).json()) as GatewayStatus
    const second = (await (await fetch(`${url}/status.json`)).json()) as GatewayStatus
    const { uptimeMs: _u, ...rest } = status()
    expect(first).toMatchObject(rest)
    expect(second.uptimeMs).toBeGreaterThan(first.uptimeMs)
  })

  it.each(['/index.html', '/dashboard', '/status', '/dashboard.js/', '/../etc/passwd', '/constructor', '/__proto__'])('answers 404 for %s', async (path) => {
    const url = await serve()
    const response = await fetch(`${url}${path}`)
    expect(response.status).toBe(404)
    expect(await response.text()).toBe('not found\n')
  })

  it('ignores the query string, and answers HEAD without a body', async () => {
    const url = await serve()
    expect((await fetch(`${url}/?refresh=1`)).headers.get('content-security-policy')).toBe(DASHBOARD_CSP)
    const head = await fetch(`${url}/dashboard.js`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(Number(head.headers.get('content-length'))).toBe(Buffer.byteLength(DASHBOARD_JS))
    expect(await head.text()).toBe('')
  })

  it('refuses other methods', async () => {
    const url = await serve()
    const response = await fetch(`${url}/`, { method: 'POST', body: 'x' })
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('GET, HEAD')
  })
})

describe("the dashboard's sources", () => {
  it('are a script that parses', () => {
    expect(() => new Script(DASHBOARD_JS, { filename: 'dashboard.js' })).not.toThrow()
  })

  it('never turn a string into markup or code', () => {
    expect(DASHBOARD_JS).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(\s*['"](style|on)/)
  })

  it('hold no inline script or style, which the CSP would refuse', () => {
    expect(DASHBOARD_HTML).not.toMatch(/<style|\sstyle=|\son[a-z]+=|javascript:/i)
    const scripts = [...DASHBOARD_HTML.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)]
    expect(scripts.map((m) => [m[0].match(/src="([^"]+)"/)?.[1], m[1]])).toEqual([['dashboard.js', '']])
  })

  it('load nothing from outside the gateway', () => {
    for (const source of [DASHBOARD_HTML, DASHBOARD_CSS]) {
      expect(source).not.toMatch(/(https?:)?\/\/[a-z0-9]|@import|url\(/i)
    }
    // The one absolute URL in the script is the SVG namespace, which names and fetches nothing.
    expect([...DASHBOARD_JS.matchAll(/https?:\/\/[^'"\s]+/g)].map((m) => m[0])).toEqual(['http://www.w3.org/2000/svg'])
  })
})
