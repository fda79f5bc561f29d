/**
 * How an option reads to people, shared by `--help` and the README tables so
 * the two say the same thing.
 */
import type { OptionSpec, Unit } from './types.js'

const PLACEHOLDER: Record<Unit, string> = { ms: '<ms>', bytes: '<bytes>', count: '<n>' }

/** The argument placeholder: `<ms>` for a duration, `<endpoint>`, none for a switch. */
export function placeholderOf(spec: OptionSpec<unknown>): string | undefined {
  if (spec.kind.placeholder === undefined) return undefined
  return spec.unit === undefined ? spec.kind.placeholder : PLACEHOLDER[spec.unit]
}

/** The flag as commander declares it and the README shows it: `-n, --batch-size <n>`. */
export function flagTerm(spec: OptionSpec<unknown> & { readonly flag: string }): string {
  const placeholder = placeholderOf(spec)
  return `${spec.short === undefined ? '' : `-${spec.short}, `}--${spec.flag}${placeholder === undefined ? '' : ` ${placeholder}`}`
}

function mebibytes(n: number): string | undefined {
  const mib = 1024 * 1024
  return n >= mib && n % mib === 0 ? `${n / mib} MiB` : undefined
}

/** The default in words, or `undefined` when there is none to show. */
export function defaultOf(spec: OptionSpec<unknown>): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText
  const value = spec.default
  if (value === undefined) return undefined
  if (typeof value === 'boolean') return value ? 'on' : 'off'
  if (Array.isArray(value)) return value.join(' ')
  if (typeof value === 'number' && spec.unit === 'bytes') {
    const mib = mebibytes(value)
    return mib === undefined ? String(value) : `${value} (${mib})`
  }
  if (typeof value === 'number' && spec.unit === 'ms' && value > 0) {
    return value >= 60_000 && value % 60_000 === 0 ? `${value} ms (${value / 60_000} min)` : `${value} ms`
  }
  return String(value)
}

/** The bounds worth saying: `1–10000`, `≥ 10`; nothing for a plain `≥ 0` or `≥ 1`. */
export function rangeOf(spec: OptionSpec<unknown>): string | undefined {
  const range = spec.kind.range
  return range === undefined || range === '≥ 0' || range === '≥ 1' ? undefined : range
}

/** The `--help` line of an option: its help, then bounds and default in parentheses. */
export function helpLine(spec: OptionSpec<unknown>): string {
  const notes = [rangeOf(spec), defaultOf(spec) === undefined ? undefined : `default: ${defaultOf(spec)}`].filter((note) => note !== undefined)
  return notes.length === 0 ? spec.help : `${spec.help} (${notes.join(', ')})`
}
