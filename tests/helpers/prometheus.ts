/**
 * Scraping a `/metrics` endpoint the way Prometheus does, and reading the
 * answer with a real text-format parser (parse-prometheus-text-format),
 * never a regular expression.
 */
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format'

export interface Scrape {
  readonly contentType: string
  readonly families: readonly ParsedFamily[]
  /** The family `name`; throws when it is absent, naming what is there. */
  family(name: string): ParsedFamily
  /** The value of the one sample of `name` whose labels include `labels`; throws when there is none. */
  value(name: string, labels?: Readonly<Record<string, string>>): number
  /** A histogram's count, sum and cumulative buckets (by `le`). */
  histogram(name: string): { count: number; sum: number; buckets: Readonly<Record<string, number>> }
}

/** GETs `url` and parses it; throws on any status but 200. */
export async function scrape(url: string): Promise<Scrape> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) })
  const text = await response.text()
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${text}`)
  return parse(text, response.headers.get('content-type') ?? '')
}

export function parse(text: string, contentType = ''): Scrape {
  const families = parsePrometheusTextFormat(text)
  const family = (name: string): ParsedFamily => {
    const found = families.find((f) => f.name === name)
    if (found === undefined) throw new Error(`no metric ${name}; there are ${families.map((f) => f.name).join(', ')}`)
    return found
  }
  return {
    contentType,
    families,
    family,
    value(name, labels = {}) {
      const samples = family(name).metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
      if (samples.length !== 1) throw new Error(`${samples.length} samples of ${name} match ${JSON.stringify(labels)}`)
      return Number(samples[0]!.value)
    },
    histogram(name) {
      const f = family(name)
      if (f.type !== 'HISTOGRAM' || f.metrics.length !== 1) throw new Error(`${name} is a ${f.type} with ${f.metrics.length} series`)
      const m = f.metrics[0]!
      const buckets = Object.fromEntries(Object.entries(m.buckets ?? {}).map(([le, n]) => [le, Number(n)]))
      return { count: Number(m.count), sum: Number(m.sum), buckets }
    },
  }
}
