/**
 * Option merging and checking shared by every class: defaults are merged
 * once, then each number is checked, so a bad value fails at construction
 * with a message that names the option, what was expected and what arrived.
 */
import { ConfigError } from '../errors.js'

/** `defaults` overlaid with the options that are not `undefined`. */
export function withDefaults<D extends object, O extends object>(defaults: D, options: O): D & O {
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) }
  for (const [key, value] of Object.entries(options)) if (value !== undefined) merged[key] = value
  return merged as D & O
}

/** Throws {@link ConfigError} unless `value` is an integer within `[min, max]`. */
export function checkInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
    throw new ConfigError('ERR_INVALID_OPTION', `${name} must be an integer ${range}, got ${String(value)}`)
  }
  return value
}
