/**
 * `gateway-status --watch [SECONDS]`: its kind (seconds, fractions allowed)
 * and its schema entry, spread into the status schema.
 */
import { INVALID, type Kind } from './kinds.js'
import { Group } from './shared.js'

/** `gateway-status --watch` alone redraws this often, in seconds, as watch(1) does. */
export const WATCH_DEFAULT_SECONDS = 2

/**
 * A number of seconds, fractions allowed (`0.5`), within `[min, max]`. Its
 * placeholder is optional (`[seconds]`): gateway-status fills in
 * {@link WATCH_DEFAULT_SECONDS} when the flag is given alone.
 */
export function seconds(min: number, max: number): Kind<number> {
  const ok = (n: number): boolean => Number.isFinite(n) && n >= min && n <= max
  return {
    name: 'seconds',
    placeholder: '[seconds]',
    expected: `a number of seconds from ${min} to ${max}`,
    range: `${min}–${max} s`,
    fromText: (text) => (/^\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*$/.test(text) && ok(Number(text)) ? Number(text) : INVALID),
    fromValue: (value) => (typeof value === 'number' && ok(value) ? value : INVALID),
  }
}

/** The command line's own: the library's requestStatus() asks once. */
export const watchFlag = {
  watch: {
    flag: 'watch',
    kind: seconds(0.1, 86_400),
    defaultText: `off; ${WATCH_DEFAULT_SECONDS} s when given alone`,
    help: 'redraw the status every SECONDS until Ctrl+C, like watch(1); an unreachable gateway is retried',
    group: Group.output,
    cliOnly: true,
  },
} as const
