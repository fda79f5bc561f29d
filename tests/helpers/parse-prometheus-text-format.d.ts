/** Types for parse-prometheus-text-format, which ships none: its output, as its README shows it (prom2json's shape). */
declare module 'parse-prometheus-text-format' {
  export interface ParsedSample {
    readonly value?: string
    readonly labels?: Readonly<Record<string, string>>
    /** Histograms: cumulative count per `le` bound, as strings. */
    readonly buckets?: Readonly<Record<string, string>>
    readonly count?: string
    readonly sum?: string
  }
  export interface ParsedFamily {
    readonly name: string
    readonly help: string
    readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED'
    readonly metrics: readonly ParsedSample[]
  }
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[]
}
