/**
 * The metrics docs/OPERATIONS.md lists are the metrics each role serves, with
 * the types it says, and nothing served is missing from it: the tables are
 * read from the doc and compared with the registries. Also: a scrape of a
 * fresh gateway's registry is valid text format with every labelled counter's
 * series present at zero.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { zeroStats } from '../../src/gateway/events.js'
import type { GatewayStatus } from '../../src/gateway/status.js'
import { GatewayMetrics } from '../../src/metrics/gateway-metrics.js'
import { WorkerMetrics } from '../../src/metrics/worker-metrics.js'
import { parse } from '../helpers/prometheus.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** `name → type` of the table under `heading` in docs/OPERATIONS.md. */
async function documented(heading: string): Promise<Record<string, string>> {
  const text = await readFile(`${ROOT}docs/OPERATIONS.md`, 'utf8')
  const start = text.indexOf(`\n${heading}\n`)
  if (start < 0) throw new Error(`docs/OPERATIONS.md has no "${heading}"`)
  const section = text.slice(start + heading.length + 2).split('\n### ')[0]!
  const rows = section.split('\n').filter((line) => line.startsWith('| `'))
  return Object.fromEntries(rows.map((row) => {
    const cells = row.split('|').map((cell) => cell.trim())
    return [cells[1]!.replaceAll('`', ''), cells[2]!]
  }))
}

function status(): GatewayStatus {
  return {
    uptimeMs: 1,
    endpoint: 'tcp://127.0.0.1:1',
    workersEndpoint: 'ipc:///tmp/x',
    queue: { batches: 0, bytes: 0, heldBytes: 0, clients: [], clientCount: 0 },
    workers: [],
    pool: { forked: 0, starting: 0, retiring: 0, min: 0, max: 0 },
    counters: zeroStats(),
  }
}

async function served(registry: GatewayMetrics['registry']): Promise<Record<string, string>> {
  const metrics = await registry.getMetricsAsJSON()
  return Object.fromEntries(metrics.filter((m) => m.name.startsWith('cgw_')).map((m) => [m.name, String(m.type)]))
}

describe("docs/OPERATIONS.md's metrics tables", () => {
  it("list exactly the gateway's metrics, with their types", async () => {
    const metrics = new GatewayMetrics({ stats: zeroStats(), status })
    expect(await documented("### The gateway's metrics")).toEqual(await served(metrics.registry))
  })

  it("list exactly a worker's metrics, with their types", async () => {
    const stats = { batches: 0, outcomes: { ok: 0, unknown: 0, failed: 0, timeout: 0, cancelled: 0 }, states: { ok: 0, warning: 0, critical: 0, unknown: 0 }, resultsDropped: 0, malformed: 0, reconnects: 0 }
    const metrics = new WorkerMetrics({ stats, holding: 0 })
    expect(await documented("### A worker's metrics")).toEqual(await served(metrics.registry))
  })

  it('name standard process metrics that are served', async () => {
    const text = await readFile(`${ROOT}docs/OPERATIONS.md`, 'utf8')
    const names = [...text.matchAll(/`((?:process|nodejs)_[a-z_]+)`/g)].map((m) => m[1]!)
    expect(names.length).toBeGreaterThan(3)
    const metrics = new GatewayMetrics({ stats: zeroStats(), status })
    const all = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name))
    for (const name of names) expect(all, name).toContain(name)
  })
})

describe("a fresh gateway's scrape", () => {
  it('is valid text format, every labelled counter at zero for each of its values', async () => {
    const metrics = new GatewayMetrics({ stats: zeroStats(), status })
    const reply = await metrics.routes['/metrics']!()
    const m = parse(reply.body.toString(), reply.contentType)
    expect(m.family('cgw_batches_rejected_total').metrics.map((s) => s.labels?.reason).sort()).toEqual(['attempts-exhausted', 'malformed', 'not-allowed', 'queue-full', 'shutting-down', 'too-large'])
    expect(m.family('cgw_commands_total').metrics.every((s) => s.value === '0')).toBe(true)
    expect(m.histogram('cgw_queue_wait_seconds')).toMatchObject({ count: 0, sum: 0 })
    expect(reply.contentType).toMatch(/^text\/plain; version=0\.0\.4/)
  })
})
