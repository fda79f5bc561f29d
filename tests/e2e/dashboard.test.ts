/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The dashboard in a real browser: Debian's Chromium, headless, loads `/`
 * from a real gateway (forked workers, HTTP on 127.0.0.1:0) under load, and
 * the test reads what the page RENDERED: worker rows, the queue per client,
 * the counters, the chart, against the gateway's own status. The page's CSP
 * holds and nothing violates it.
 *
 * Then the page against a status that carries markup in every string
 * (client and worker ids, endpoints, rejection reasons): it shows them as
 * text, makes no element of them and runs nothing; and it shows
 * "disconnected" while the gateway does not answer, and recovers.
 *
 * Without /usr/bin/chromium these skip, except with CI=true, where they fail.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Client, Gateway } from '../../dist/index.js'
import { HttpEndpoint } from '../../dist/http/http-endpoint.js'
import { DASHBOARD_CSP, dashboardRoutes } from '../../dist/dashboard/routes.js'
import { zeroStats } from '../../dist/gateway/events.js'
import { silentLogger } from '../../dist/log.js'
import type { GatewayStatus } from '../../dist/gateway/status.js'
import { cspConsoleLines, noBrowser, openBrowser, type Browser, type WatchedPage } from '../helpers/browser.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { expectAllGone, waitFor } from '../helpers/processes.js'

/** Batches of one command: the first FAST answer at once, the SLOW ones hold their worker slot far past the test. */
const FAST = 6
const SLOW_A = 14
const SLOW_B = 6
const CAPACITY = 2
const WORKERS = 2

let files: Fixtures
let browser: Browser | undefined
let gateway: Gateway | undefined
let endpoints: HttpEndpoint[] = []
let clients: Client[] = []
let runs: Promise<unknown>[] = []
let workerPids: number[] = []

beforeEach(async () => {
  files = await fixtures()
  endpoints = []
  clients = []
  runs = []
  workerPids = []
})

afterEach(async () => {
  await Promise.all(clients.map((c) => c.interrupt()))
  await Promise.all(runs)
  await gateway?.close({ force: true })
  gateway = undefined
  await expectAllGone(workerPids)
  await Promise.all(endpoints.map((e) => e.close()))
  await browser?.close()
  browser = undefined
  await files.remove()
})

/** What the page shows, read from the DOM. */
interface Rendered {
  connection: string
  disconnected: boolean
  endpoint: string
  curve: string
  queueBatches: string
  queue: string[][]
  workers: string[][]
  counters: Record<string, string>
  batchesPeak: string
  batchesPoints: number
}

function rendered({ page }: WatchedPage): Promise<Rendered> {
  return page.evaluate(() => {
    const text = (selector: string): string => document.querySelector(selector)?.textContent ?? ''
    const rows = (selector: string): string[][] => [...document.querySelectorAll<HTMLTableRowElement>(`${selector} tbody tr`)].map((tr) => [...tr.cells].map((td) => td.textContent ?? ''))
    const counters: Record<string, string> = {}
    for (const dd of document.querySelectorAll<HTMLElement>('[data-counter]')) counters[dd.dataset.counter!] = dd.textContent ?? ''
    const polyline = document.querySelector('#chart-batches polyline.done')
    return {
      connection: text('#connection'),
      disconnected: document.body.classList.contains('disconnected'),
      endpoint: text('#endpoint'),
      curve: text('#curve'),
      queueBatches: text('#queue-batches'),
      queue: rows('#queue'),
      workers: rows('#workers'),
      counters,
      batchesPeak: text('#chart-batches-peak'),
      batchesPoints: polyline?.getAttribute('points')?.split(' ').length ?? 0,
    }
  })
}

/** A count as the page prints it (grouped: 1,234). */
const shown = (n: number): string => n.toLocaleString('en-US')

function client(g: Gateway, id: string): Client {
  const c = new Client({ id, servers: [g.endpoint], bind: 'tcp://127.0.0.1:*', batchSize: 1, resultTimeoutMs: 120_000, abortGraceMs: 0 })
  clients.push(c)
  return c
}

describe.skipIf(noBrowser)('the dashboard of a gateway under load, in Chromium', () => {
  it('renders the workers, the queue per client and the counters the gateway reports, under its CSP', async () => {
    // Slow devices answer after 10 minutes (the hold timeout): they stay held and queued for the whole test.
    const map = await files.write('map.txt', [
      ...Array.from({ length: FAST }, (_, k) => `10.0.0.${k}:ping:1:0`),
      ...Array.from({ length: SLOW_A + SLOW_B }, (_, k) => `10.0.1.${k}:ping:1:600`),
    ])
    const g = new Gateway({ mapFile: map, bind: 'tcp://127.0.0.1:*', http: '127.0.0.1:0', maxWorkers: WORKERS, minWorkers: WORKERS, capacity: CAPACITY, heartbeatIntervalMs: 500 })
    g.on('worker:spawn', ({ pid }) => workerPids.push(pid))
    gateway = g
    await g.start()
    await waitFor(() => g.connectedWorkers === WORKERS, 'both workers to join')
    // Client A: the fast batches, then its slow ones; client B: slow ones only.
    const a = client(g, 'client-a')
    runs.push(a.run(await files.write('a.txt', [...Array.from({ length: FAST }, (_, k) => `10.0.0.${k}:ping`), ...Array.from({ length: SLOW_A }, (_, k) => `10.0.1.${k}:ping`)])))
    await waitFor(() => g.stats.completed === FAST, 'the fast batches to be answered')
    const b = client(g, 'client-b')
    runs.push(b.run(await files.write('b.txt', Array.from({ length: SLOW_B }, (_, k) => `10.0.1.${SLOW_A + k}:ping`))))
    const held = (): number => g.status().workers.reduce((sum, w) => sum + w.inFlight, 0)
    const total = FAST + SLOW_A + SLOW_B
    await waitFor(() => g.stats.received === total && held() === WORKERS * CAPACITY && g.queued === SLOW_A + SLOW_B - WORKERS * CAPACITY, 'every batch to be held or queued')
    // The rates: an entry a second from the gateway's start, the first one holding the fast batches.
    await waitFor(() => g.status().recent!.batchesPerSecond.length >= 2, 'two seconds of rates')
    // Nothing moves from here on: the counters and the queue are what the page must show.
    const status = g.status()
    expect(status.queue.clients.length).toBe(2)

    browser = await openBrowser()
    const watched = await browser.page()
    const response = await watched.page.goto(`${g.httpUrl!}/`)
    expect(response?.status()).toBe(200)
    expect(response?.headers()['content-security-policy']).toBe(DASHBOARD_CSP)
    expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8')

    const c = status.counters
    const commands = (c as { commands?: Record<string, number> }).commands
    await expect
      .poll(async () => {
        const r = await rendered(watched)
        return { ...r, connection: r.connection.replace(/updated .*/, 'updated') }
      }, { timeout: 10_000, interval: 200 })
      .toMatchObject({
        connection: 'live · updated',
        disconnected: false,
        endpoint: g.endpoint,
        curve: 'off',
        queueBatches: shown(status.queue.batches),
        // Deepest first, as the gateway lists them; the share column holds a meter, no text.
        queue: status.queue.clients.map((q) => [q.client, shown(q.batches), '']),
        counters: {
          received: shown(c.received),
          dispatched: shown(c.dispatched),
          completed: shown(c.completed),
          requeued: shown(c.requeued),
          malformed: shown(c.malformed),
          aborted: shown(c.aborted),
          duplicates: shown(c.duplicates),
          workersSpawned: shown(c.workersSpawned),
          rejected: shown(Object.values(c.rejected).reduce((sum, n) => sum + n, 0)),
          // Outcome counts: a gateway that counts commands shows them, one that does not shows a dash.
          'commands.ok': commands === undefined ? '—' : shown(commands.ok ?? 0),
          'commands.failed': commands === undefined ? '—' : shown(commands.failed ?? 0),
        },
      })
    const r = await rendered(watched)
    // One row per connected worker, in the gateway's order: id, kind, pid, capacity, in flight.
    expect(r.workers.map((row) => row.slice(0, 5))).toEqual(status.workers.map((w) => [w.id, w.kind, String(w.pid), String(w.capacity), String(w.inFlight)]))
    expect(r.workers.map((row) => row[0])).toEqual(g.status().workers.map((w) => w.id))
    expect(status.queue.clients.map((q) => q.client).sort()).toEqual(['client-a', 'client-b'])
    expect(r.queue.map((row) => Number(row[1]))).toEqual([...r.queue.map((row) => Number(row[1]))].sort((x, y) => y - x))
    // The chart: the first second's batches are in the last minute's peak.
    const recent = g.status().recent!
    expect(Math.max(...recent.batchesPerSecond, ...recent.receivedPerSecond)).toBeGreaterThan(0)
    expect(r.batchesPoints).toBeGreaterThanOrEqual(1)
    expect(r.batchesPeak).toMatch(/^peak [0-9.]+\/s$/)
    expect(r.batchesPeak).not.toBe('peak 0/s')

    // The CSP held: nothing was refused, nothing failed to load, nothing threw.
    expect(await watched.violations()).toEqual([])
    expect(cspConsoleLines(watched.console)).toEqual([])
    expect(watched.failures).toEqual([])
    expect(watched.errors).toEqual([])
  })
})

/** A status as a gateway that counts commands and check states sends it. */
function countingStatus(): GatewayStatus {
  const stats = zeroStats()
  const counters = {
    ...stats,
    received: 14,
    batchesReceived: 12,
    commandsReceived: 96,
    aborts: 2,
    malformedFrom: { intake: 1, workers: 3 },
    malformed: 4,
    completed: 10,
    commands: { ok: 70, unknown: 5, failed: 3, timeout: 1, cancelled: 1 },
    states: { ok: 40, warning: 6, critical: 2, unknown: 1 },
    rejected: { ...stats.rejected, 'queue-full': 2 },
  }
  return {
    uptimeMs: 3_725_000,
    endpoint: 'tcp://127.0.0.1:5557',
    workersEndpoint: 'ipc:///tmp/cgw-x/w.sock',
    queue: { batches: 0, bytes: 0, heldBytes: 0, clients: [], clientCount: 0 },
    workers: [],
    pool: { forked: 0, starting: 0, retiring: 0, min: 0, max: 0 },
    counters: counters as GatewayStatus['counters'],
    security: { curve: false },
    recent: { intervalMs: 1000, batchesPerSecond: [1, 4, 2], receivedPerSecond: [2, 4, 2], commandsPerSecond: [8, 32, 16] },
  } as GatewayStatus
}

describe.skipIf(noBrowser)('the dashboard of a gateway that counts commands and check states', () => {
  it('shows the outcome and state counts, the other counters and the commands chart', async () => {
    const endpoint = new HttpEndpoint({ host: '127.0.0.1', port: 0 }, dashboardRoutes({ stats: zeroStats(), status: countingStatus }), silentLogger())
    endpoints.push(endpoint)
    const url = await endpoint.start()
    browser = await openBrowser()
    const watched = await browser.page()
    await watched.page.goto(`${url}/`)
    await expect.poll(async () => (await rendered(watched)).counters, { timeout: 10_000, interval: 100 }).toMatchObject({
      'commands.ok': '70',
      'commands.unknown': '5',
      'commands.failed': '3',
      'commands.timeout': '1',
      'commands.cancelled': '1',
      'states.ok': '40',
      'states.warning': '6',
      'states.critical': '2',
      'states.unknown': '1',
      received: '14',
      batchesReceived: '12',
      commandsReceived: '96',
      aborts: '2',
      'malformedFrom.intake': '1',
      'malformedFrom.workers': '3',
      rejected: '2',
      'rejected.queue-full': '2',
    })
    const page = watched.page
    expect(await page.textContent('#commands-rate')).toBe('16')
    expect(await page.textContent('#commands-received')).toBe('96 received')
    expect(await page.textContent('#chart-commands-peak')).toBe('peak 32/s')
    expect(await page.locator('#chart-commands polyline.done').count()).toBe(1)
    expect(await page.textContent('#uptime')).toBe('1 h 02 min')
    expect(watched.errors).toEqual([])
    expect(await watched.violations()).toEqual([])
  })
})

const XSS_CLIENT = '<img src=x onerror=alert(1)>'
const XSS_WORKER = '<script>alert(2)</script>'
const XSS_REASON = '<b onmouseover=alert(3)>bold</b>'
const XSS_ENDPOINT = '"><svg onload=alert(4)>'

/** A status whose every string is markup, as a hostile or broken gateway could send. */
function hostileStatus(): GatewayStatus {
  const stats = zeroStats()
  return {
    uptimeMs: 1234,
    endpoint: XSS_ENDPOINT,
    workersEndpoint: XSS_ENDPOINT,
    queue: { batches: 3, bytes: 100, heldBytes: 0, clients: [{ client: XSS_CLIENT, batches: 3 }], clientCount: 1 },
    workers: [{ id: XSS_WORKER, kind: XSS_WORKER as 'forked', pid: 42, capacity: 1, inFlight: 0, lastHeardMs: 10, served: 0 }],
    pool: { forked: 1, starting: 0, retiring: 0, min: 1, max: 1 },
    counters: { ...stats, rejected: { ...stats.rejected, [XSS_REASON]: 1 } as typeof stats.rejected },
    security: { curve: true, publicKey: XSS_ENDPOINT },
  }
}

describe.skipIf(noBrowser)('the dashboard given markup in every string of the status', () => {
  it('shows it as text: no element is made of it and no script of it runs', async () => {
    const endpoint = new HttpEndpoint({ host: '127.0.0.1', port: 0 }, dashboardRoutes({ stats: zeroStats(), status: hostileStatus }), silentLogger())
    endpoints.push(endpoint)
    const url = await endpoint.start()
    browser = await openBrowser()
    const watched = await browser.page()
    await watched.page.goto(`${url}/`)
    await expect.poll(async () => (await rendered(watched)).queue, { timeout: 10_000, interval: 100 }).toEqual([[XSS_CLIENT, '3', '']])
    const r = await rendered(watched)
    expect(r.workers[0]!.slice(0, 2)).toEqual([XSS_WORKER, XSS_WORKER])
    expect(r.endpoint).toBe(XSS_ENDPOINT)
    expect(r.counters[`rejected.${XSS_REASON}`]).toBe('1')
    const made = await watched.page.evaluate(() => ({
      img: document.querySelectorAll('img').length,
      scripts: [...document.scripts].map((s) => s.getAttribute('src')),
      b: document.querySelectorAll('b').length,
      svgOnload: document.querySelectorAll('svg[onload]').length,
      handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
    }))
    expect(made).toEqual({ img: 0, scripts: ['dashboard.js'], b: 0, svgOnload: 0, handlers: 0 })
    expect(watched.dialogs).toEqual([])
    expect(watched.errors).toEqual([])
    expect(await watched.violations()).toEqual([])

    // The control: markup that does reach the page as a script is refused by the CSP, and seen.
    await watched.page.evaluate(() => {
      const script = document.createElement('script')
      script.textContent = 'window.__ran = true'
      document.body.append(script)
    })
    await expect.poll(() => watched.violations(), { timeout: 5000 }).toEqual([expect.stringMatching(/^script-src(-elem)? inline$/)])
    expect(await watched.page.evaluate(() => (window as unknown as { __ran?: boolean }).__ran)).toBeUndefined()
  })

  it('shows "disconnected" while the gateway does not answer, and recovers when it does', async () => {
    const routes = dashboardRoutes({ stats: zeroStats(), status: hostileStatus })
    const first = new HttpEndpoint({ host: '127.0.0.1', port: 0 }, routes, silentLogger())
    endpoints.push(first)
    const url = await first.start()
    browser = await openBrowser()
    const watched = await browser.page()
    await watched.page.goto(`${url}/`)
    await expect.poll(async () => (await rendered(watched)).connection, { timeout: 10_000, interval: 100 }).toMatch(/^live · updated/)
    await first.close()
    await expect.poll(async () => rendered(watched), { timeout: 10_000, interval: 100 }).toMatchObject({ disconnected: true, connection: expect.stringMatching(/^disconnected \(.+\) · last update [0-9:]+ · retrying$/) })
    // What it showed stays on the page, dimmed.
    expect((await rendered(watched)).queue).toEqual([[XSS_CLIENT, '3', '']])
    const again = new HttpEndpoint({ host: '127.0.0.1', port: Number(new URL(url).port) }, routes, silentLogger())
    endpoints.push(again)
    await again.start()
    await expect.poll(async () => rendered(watched), { timeout: 10_000, interval: 100 }).toMatchObject({ disconnected: false, connection: expect.stringMatching(/^live · updated/) })
    expect(watched.errors).toEqual([])
  })
})
