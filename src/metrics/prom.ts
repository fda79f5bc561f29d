/**
 * The small vocabulary both roles build their `/metrics` from, on prom-client.
 * Counters and gauges read plain fields when Prometheus scrapes (their
 * `collect()` sets them), so serving metrics costs the hot path nothing; only
 * the histograms are fed as things happen, once per batch (style.md §13).
 * Every role has its own {@link Registry}, never prom-client's global one:
 * several gateways and workers may live in one process (tests do).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { HttpReply } from '../http/http-endpoint.js'

/**
 * Seconds, from 1 ms to 5 min: a zero-wait batch takes about a millisecond,
 * a batch of slow checks minutes.
 */
export const SECONDS_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

/** Result codes 0–4 as label values, in code order (a `done`'s `counts`). */
export const OUTCOMES = ['ok', 'unknown', 'failed', 'timeout', 'cancelled'] as const
/** Check states 0–3 as label values (a `done`'s `states`). */
export const STATES = ['ok', 'warning', 'critical', 'unknown'] as const

/** A registry with the standard process and Node.js metrics, under their usual names (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`, …). */
export function newRegistry(): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  return registry
}

/** A counter that reads its value at scrape time. */
export function readCounter(registry: Registry, name: string, help: string, read: () => number): void {
  const counter: Counter = new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      counter.reset()
      counter.inc(read())
    },
  })
}

/**
 * A counter with one label whose every value is always present (zeros
 * included), so a rate over it never starts from a missing series.
 */
export function readLabeledCounter<V extends string>(registry: Registry, name: string, help: string, label: string, values: readonly V[], read: () => Readonly<Record<V, number>>): void {
  const counter: Counter<string> = new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      const now = read()
      counter.reset()
      for (const value of values) counter.inc({ [label]: value }, now[value])
    },
  })
}

/** A gauge that reads its value(s) at scrape time: one number, or one per label set. */
export function readGauge(registry: Registry, name: string, help: string, read: () => number): void {
  const gauge: Gauge = new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      gauge.set(read())
    },
  })
}

export function readLabeledGauge(registry: Registry, name: string, help: string, labels: readonly string[], read: () => readonly (readonly [Readonly<Record<string, string>>, number])[]): void {
  const gauge: Gauge<string> = new Gauge({
    name,
    help,
    labelNames: labels,
    registers: [registry],
    collect() {
      const series = read()
      gauge.reset()
      for (const [labelSet, value] of series) gauge.set(labelSet, value)
    },
  })
}

/** A histogram of seconds, observed in milliseconds (the clocks' unit). */
export function secondsHistogram(registry: Registry, name: string, help: string): (ms: number) => void {
  const histogram = new Histogram({ name, help, buckets: [...SECONDS_BUCKETS], registers: [registry] })
  return (ms) => histogram.observe(ms / 1000)
}

/** The `/metrics` reply: the registry in the text format. */
export async function metricsReply(registry: Registry): Promise<HttpReply> {
  return { contentType: registry.contentType, body: await registry.metrics() }
}
