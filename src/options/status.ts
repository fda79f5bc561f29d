/**
 * The options of a status request (`requestStatus()` and `gateway-status`),
 * declared once. Keys are StatusRequestOptions' names.
 */
import { INVALID, boolean, integer, type Kind } from './kinds.js'
import { Group, configFlag, curveSecretFlag, serverKeyFlag } from './shared.js'
import { defineSchema } from './types.js'

/** `gateway-status --watch` alone redraws this often, in seconds, as watch(1) does. */
export const WATCH_DEFAULT_SECONDS = 2

/**
 * A number of seconds, fractions allowed (`0.5`), within `[min, max]`. Its
 * placeholder is optional (`[seconds]`): gateway-status fills in
 * {@link WATCH_DEFAULT_SECONDS} when the flag is given alone.
 */
function seconds(min: number, max: number): Kind<number> {
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

export const statusSchema = defineSchema({
  timeoutMs: {
    flag: 'timeout',
    kind: integer(1),
    unit: 'ms',
    default: 3000,
    help: 'give up after this long without an answer',
    group: Group.timing,
  },
  json: {
    flag: 'json',
    kind: boolean(),
    default: false,
    defaultText: 'off',
    help: 'print the status as JSON',
    negation: 'print the status as text, whatever CGW_JSON or the config file says',
    group: Group.output,
    cliOnly: true,
  },
  watch: {
    flag: 'watch',
    kind: seconds(0.1, 86_400),
    defaultText: `off; ${WATCH_DEFAULT_SECONDS} s when given alone`,
    help: 'redraw the status every SECONDS until Ctrl+C, like watch(1); an unreachable gateway is retried',
    group: Group.output,
    cliOnly: true,
  },
  ...curveSecretFlag,
  ...serverKeyFlag,
  config: configFlag('timeout = 5000'),
})
