#!/usr/bin/env node
/**
 * Writes docs/images/dashboard.png: the dashboard of a demo gateway under
 * load, 1280×800, as the README shows it.
 *
 *   npm run build && node scripts/dashboard-screenshot.mjs [out.png]
 *
 * Everything stays on 127.0.0.1: a gateway with three forked workers on a
 * simulated device map (answers after 0.1–1.2 s), three clients sending in
 * waves so that batches queue up, and Debian's Chromium (/usr/bin/chromium)
 * driven headless by playwright-core, which downloads no browser. It waits
 * for about 12 seconds of rates so the chart has a shape, then shoots.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CHROMIUM = '/usr/bin/chromium'
const OUT = process.argv[2] ?? join(ROOT, 'docs/images/dashboard.png')
const SECONDS_OF_DATA = 12

if (!existsSync(join(ROOT, 'dist/index.js'))) {
  console.error('dist/ is missing: run npm run build first')
  process.exit(2)
}
if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing: apt-get install chromium`)
  process.exit(2)
}
const { Client, Gateway } = await import(join(ROOT, 'dist/index.js'))

/** Resolves when `condition()` holds; rejects naming `what` after `timeoutMs`. */
async function waitFor(condition, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const dir = await mkdtemp(join(tmpdir(), 'cgw-screenshot-'))
const profile = await mkdtemp(join(tmpdir(), 'cgw-screenshot-chromium-'))
const devices = Array.from({ length: 240 }, (_, k) => `10.20.${Math.floor(k / 100)}.${k % 100}`)
// Most answer 1 after 0.1–1.2 s; a few answer slowly.
const map = devices.map((address, k) => `${address}:check:1:${k % 17 === 0 ? 2.5 : (0.1 + ((k * 37) % 12) / 10).toFixed(1)}`)
await writeFile(join(dir, 'map.txt'), `${map.join('\n')}\n`)
/** A commands file of `count` lines over the devices, from `offset`; one in 50 names a command the map lacks (unknown). */
async function commands(name, count, offset) {
  const lines = Array.from({ length: count }, (_, k) => `${devices[(offset + k) % devices.length]}:${k % 50 === 49 ? 'reboot' : 'check'}`)
  const path = join(dir, name)
  await writeFile(path, `${lines.join('\n')}\n`)
  return path
}

const gateway = new Gateway({
  mapFile: join(dir, 'map.txt'),
  bind: 'tcp://127.0.0.1:*',
  http: '127.0.0.1:0',
  maxWorkers: 3,
  minWorkers: 3,
  capacity: 4,
  concurrency: 32,
})
const clients = []
const runs = []
let context
try {
  await gateway.start()
  await waitFor(() => gateway.connectedWorkers === 3, 'three workers')
  const start = async (id, file, batchSize) => {
    const client = new Client({ id, servers: [gateway.endpoint], bind: 'tcp://127.0.0.1:*', batchSize, window: 24, resultTimeoutMs: 120_000, abortGraceMs: 0 })
    clients.push(client)
    runs.push(client.run(file).catch(() => undefined))
  }
  // Waves: a steady client first, a big one after 3 s, a third after 6 s.
  await start('ops-east', await commands('east.txt', 4000, 0), 8)
  await waitFor(() => (gateway.status().recent?.batchesPerSecond.length ?? 0) >= 3, 'three seconds of rates')
  await start('nightly-inventory', await commands('nightly.txt', 6000, 80), 16)
  await waitFor(() => (gateway.status().recent?.batchesPerSecond.length ?? 0) >= 6, 'six seconds of rates')
  await start('ops-west', await commands('west.txt', 3000, 160), 8)
  await waitFor(() => (gateway.status().recent?.batchesPerSecond.length ?? 0) >= SECONDS_OF_DATA, `${SECONDS_OF_DATA} seconds of rates`)

  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
  })
  const page = context.pages()[0] ?? (await context.newPage())
  await page.goto(`${gateway.httpUrl}/`)
  // Two polls rendered: the chart and every table are filled.
  await page.waitForFunction(() => document.body.className === '' && document.querySelector('#chart-batches polyline') !== null)
  const first = await page.textContent('#connection')
  await page.waitForFunction((before) => document.querySelector('#connection')?.textContent !== before, first)
  await mkdir(dirname(OUT), { recursive: true })
  await page.screenshot({ path: OUT })
  console.log(`wrote ${OUT}`)
} finally {
  await Promise.all(clients.map((client) => client.interrupt()))
  await Promise.all(runs)
  await context?.close()
  await gateway.close({ force: true })
  await rm(dir, { recursive: true, force: true })
  await rm(profile, { recursive: true, force: true })
}
