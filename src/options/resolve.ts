/**
 * Library option resolution from a schema: defaults merged once, then every
 * value checked by its kind, so a bad value fails at construction with a
 * message naming the option, what was expected and what arrived.
 */
import { ConfigError } from '../errors.js'
import { INVALID, type Kind } from './kinds.js'
import type { DefaultsOf, Schema } from './types.js'

/** A value as a message shows it: strings quoted, objects as short JSON. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (typeof value !== 'object' || value === null) return String(value)
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch {
    // a cycle, a BigInt: fall through to the type
  }
  if (json === undefined) return Array.isArray(value) ? 'an array' : 'an object'
  return json.length > 80 ? `${json.slice(0, 77)}...` : json
}

/** The message of every refused value: `batchSize must be an integer from 1 to 10000, got 0`. */
export function invalidMessage(name: string, kind: Kind<unknown>, shown: string): string {
  return `${name} must be ${kind.expected}, got ${shown}`
}

/**
 * `options` with the schema's defaults filled in and every library option
 * checked; throws {@link ConfigError} naming the first bad one. Options the
 * schema does not know are kept as they are.
 */
export function applySchema<S extends Schema, O extends object>(schema: S, options: O): DefaultsOf<S> & O {
  const merged: Record<string, unknown> = { ...(options as Record<string, unknown>) }
  for (const [key, spec] of Object.entries(schema)) {
    if (spec.cliOnly === true) continue
    const value = (options as Record<string, unknown>)[key] ?? spec.default
    if (value === undefined) {
      if (spec.required === true) throw new ConfigError('ERR_INVALID_OPTION', `${key} is required`)
      delete merged[key]
      continue
    }
    const read = spec.kind.fromValue(value)
    if (read === INVALID) throw new ConfigError(spec.kind.errorCode ?? 'ERR_INVALID_OPTION', invalidMessage(key, spec.kind, describeValue(value)))
    merged[key] = read
  }
  return merged as DefaultsOf<S> & O
}

/** The defaults of a schema's library options, for `gatewayDefaults` and its siblings. */
export function defaultsOf<S extends Schema>(schema: S): DefaultsOf<S> {
  const defaults: Record<string, unknown> = {}
  for (const [key, spec] of Object.entries(schema)) if (spec.cliOnly !== true && spec.default !== undefined) defaults[key] = spec.default
  return defaults as DefaultsOf<S>
}
