/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The dashboard in Chromium against a status a hostile or broken gateway
 * (or hostile workers and clients, through a real one) could produce: 4096
 * workers, ids holding bidi overrides, zero-width and control characters,
 * and strings far longer than any id. The page must say how many workers
 * there are (not how many rows it drew), show every invisible or
 * reordering character as a visible escape, as gateway-status does on a
 * terminal, so one id cannot pass for another, and stay as wide as the window.
 *
 * Without /usr/bin/chromium these skip, except with CI=true, where they fail.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { HttpEndpoint } from '../../dist/http/http-endpoint.js'
import { dashboardRoutes } from '../../dist/dashboard/routes.js'
import { zeroStats } from '../../dist/gateway/events.js'
import { silentLogger } from '../../dist/log.js'
import type { GatewayStatus } from '../../dist/gateway/status.js'
import { noBrowser, openBrowser, type Browser } from '../helpers/browser.js'

let browser: Browser | undefined
const endpoints: HttpEndpoint[] = []

afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close()))
  await browser?.close()
  browser = undefined
})

const RTL = 'gw1-\u202eevil' // renders as "gw1-live" reversed: another worker's name
const ZWSP = 'gwabc123-1\u200b' // looks exactly like a forked worker's id
const ESC = 'esc\x1b[2J\x00'
const LONG = 'L'.repeat(10_000)
const WORKERS = 4096

function status(): GatewayStatus {
  const stats = zeroStats()
  const ids = [RTL, ZWSP, ESC, LONG]
  return {
    uptimeMs: 1234,
    endpoint: 'tcp://127.0.0.1:5557',
    workersEndpoint: `ipc:///tmp/${'x'.repeat(3000)}`,
    queue: { batches: 3, bytes: 100, heldBytes: 0, clients: [{ client: RTL, batches: 2 }, { client: LONG, batches: 1 }], clientCount: 2 },
    workers: Array.from({ length: WORKERS }, (_, i) => ({ id: ids[i] ?? `w-${i}`, kind: i % 2 === 0 ? ('remote' as const) : ('forked' as const), capacity: 4, inFlight: 1, lastHeardMs: 10, served: i })),
    pool: { forked: WORKERS / 2, starting: 0, retiring: 0, min: 0, max: WORKERS },
    counters: { ...stats, rejected: { ...stats.rejected }, refused: { ...stats.refused } },
    security: { curve: false },
  }
}

describe.skipIf(noBrowser)('the dashboard given 4096 workers and ids made to deceive', () => {
  it('counts every worker, draws a bounded table, shows hidden characters as escapes and stays within the window', async () => {
    const endpoint = new HttpEndpoint({ host: '127.0.0.1', port: 0 }, dashboardRoutes({ stats: zeroStats(), status }), silentLogger())
    endpoints.push(endpoint)
    const url = await endpoint.start()
    browser = await openBrowser()
    const watched = await browser.page()
    await watched.page.goto(`${url}/`)
    await watched.page.waitForFunction(() => document.querySelectorAll('#workers tbody tr').length > 0, undefined, { timeout: 10_000 })
    const r = await watched.page.evaluate(() => {
      const ids = (selector: string): string[] => [...document.querySelectorAll(`${selector} tbody td.id`)].map((td) => td.textContent ?? '')
      return {
        count: document.querySelector('#workers-count')?.textContent ?? '',
        pool: document.querySelector('#pool')?.textContent ?? '',
        more: document.querySelector('#workers-more')?.textContent ?? '',
        rows: document.querySelectorAll('#workers tbody tr').length,
        workerIds: ids('#workers'),
        clientIds: ids('#queue'),
        allText: [...document.querySelectorAll('td, dt, dd')].map((e) => e.textContent ?? '').join(' '),
        overflow: document.documentElement.scrollWidth - window.innerWidth,
      }
    })
    expect(r.count).toBe('4,096')
    expect(r.pool).toMatch(/^2048 forked, 2048 remote/)
    expect(r.rows).toBe(100)
    expect(r.more).toBe('3996 more workers not listed')
    expect(r.workerIds.slice(0, 3)).toEqual(['gw1-\\u202eevil', 'gwabc123-1\\u200b', 'esc\\x1b[2J\\x00'])
    expect(r.clientIds[0]).toBe('gw1-\\u202eevil')
    // No control, format (bidi, zero-width) or separator character reaches a cell of the page.
    expect(r.allText).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u)
    expect(Math.max(...r.workerIds.map((id) => id.length), ...r.clientIds.map((id) => id.length))).toBeLessThanOrEqual(201)
    expect(r.overflow).toBeLessThanOrEqual(0)
    expect(watched.errors).toEqual([])
    expect(await watched.violations()).toEqual([])
  })
})
