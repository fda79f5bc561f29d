/**
 * The value kinds an option can have. Each kind reads a value two ways: from
 * text (a flag or an environment variable) and from a typed value (a library
 * call or a config file), and says in words what it expects, so every source
 * reports a bad value the same way.
 */
import type { ConfigErrorCode } from '../errors.js'
import { LOG_LEVELS } from '../log.js'
import { assertBindable, isConnectableEndpoint } from '../transport/endpoint.js'

/** What a reader returns for a value it refuses. */
export const INVALID: unique symbol = Symbol('invalid option value')
export type Read<T> = T | typeof INVALID

export interface Kind<T> {
  /** The kind's name in documentation: `integer`, `endpoint`, … */
  readonly name: string
  /** What a valid value looks like, for messages: `an integer from 1 to 10000`. */
  readonly expected: string
  /** Argument placeholder in `--help`, `<endpoint>`; `undefined` for a switch that takes none. */
  readonly placeholder: string | undefined
  /** Several values after one flag (`-s a b`), and a list in the environment (`a,b` or `a b`). */
  readonly variadic?: boolean
  /** The ConfigError code of a bad value in a library call. @default 'ERR_INVALID_OPTION' */
  readonly errorCode?: ConfigErrorCode
  /** Bounds, for the README: `1–10000`, `≥ 1`. */
  readonly range?: string
  /** Reads a flag's argument or an environment variable. */
  fromText(text: string): Read<T>
  /** Checks a value given by a library caller or read from a config file. */
  fromValue(value: unknown): Read<T>
}

function bounds(min: number, max: number | undefined): { expected: string; range: string } {
  return max === undefined
    ? { expected: `an integer >= ${min}`, range: `≥ ${min}` }
    : { expected: `an integer from ${min} to ${max}`, range: `${min}–${max}` }
}

/** A safe integer within `[min, max]`. */
export function integer(min: number, max?: number): Kind<number> {
  const inRange = (n: number): boolean => Number.isSafeInteger(n) && n >= min && (max === undefined || n <= max)
  return {
    name: 'integer',
    placeholder: '<n>',
    ...bounds(min, max),
    fromText: (text) => (/^\s*-?[0-9]+\s*$/.test(text) && inRange(Number(text)) ? Number(text) : INVALID),
    fromValue: (value) => (typeof value === 'number' && inRange(value) ? value : INVALID),
  }
}

/** Any string, or one whose UTF-8 size is within `[minBytes, maxBytes]`. */
export function text(placeholder: string, limits?: { minBytes: number; maxBytes: number }): Kind<string> {
  const ok = (s: string): boolean =>
    limits === undefined || (Buffer.byteLength(s) >= limits.minBytes && Buffer.byteLength(s) <= limits.maxBytes)
  return {
    name: 'string',
    placeholder,
    expected: limits === undefined ? 'a string' : `a string of ${limits.minBytes}-${limits.maxBytes} UTF-8 bytes`,
    fromText: (s) => (ok(s) ? s : INVALID),
    fromValue: (value) => (typeof value === 'string' && ok(value) ? value : INVALID),
  }
}

function accepts(check: () => void): boolean {
  try {
    check()
    return true
  } catch {
    return false
  }
}

const ENDPOINT_SYNTAX = {
  bind: { expected: 'a bindable endpoint (tcp://host:port, tcp://host:* or ipc://path)', ok: (s: string) => accepts(() => assertBindable(s, '')) },
  connect: { expected: 'a connectable endpoint (tcp://host:port or ipc://path)', ok: isConnectableEndpoint },
}

/** A ZeroMQ endpoint to bind or to connect to. */
export function endpoint(use: 'bind' | 'connect'): Kind<string> {
  const { expected, ok } = ENDPOINT_SYNTAX[use]
  return {
    name: 'endpoint',
    placeholder: '<endpoint>',
    expected,
    errorCode: 'ERR_ENDPOINT',
    fromText: (s) => (ok(s) ? s : INVALID),
    fromValue: (value) => (typeof value === 'string' && ok(value) ? value : INVALID),
  }
}

/** One or more connectable endpoints: several after one flag, `a,b` in the environment, an array in a file. */
export function endpoints(): Kind<readonly string[]> {
  const { expected, ok } = ENDPOINT_SYNTAX.connect
  const all = (list: readonly unknown[]): Read<readonly string[]> =>
    list.length > 0 && list.every((s) => typeof s === 'string' && ok(s)) ? (list as readonly string[]) : INVALID
  return {
    name: 'endpoint list',
    placeholder: '<endpoint...>',
    variadic: true,
    expected: `one or more of ${expected}`,
    errorCode: 'ERR_ENDPOINT',
    fromText: (s) => all(s.split(/[\s,]+/).filter((part) => part.length > 0)),
    fromValue: (value) => (typeof value === 'string' ? all([value]) : Array.isArray(value) ? all(value) : INVALID),
  }
}

const TRUE = new Set(['1', 'true', 'yes', 'on'])
const FALSE = new Set(['0', 'false', 'no', 'off'])

/** A switch: present or absent on the command line, `true`/`false` (or 1/0, yes/no) elsewhere. */
export function boolean(): Kind<boolean> {
  return {
    name: 'boolean',
    placeholder: undefined,
    expected: 'a boolean (true or false)',
    fromText: (s) => (TRUE.has(s.trim().toLowerCase()) ? true : FALSE.has(s.trim().toLowerCase()) ? false : INVALID),
    fromValue: (value) => (typeof value === 'boolean' ? value : INVALID),
  }
}

/** One of pino's levels, or `silent`. */
export function logLevel(): Kind<string> {
  const ok = (value: unknown): value is string => typeof value === 'string' && LOG_LEVELS.includes(value as never)
  return {
    name: 'log level',
    placeholder: '<level>',
    expected: `one of ${LOG_LEVELS.join(', ')}`,
    fromText: (s) => (ok(s) ? s : INVALID),
    fromValue: (value) => (ok(value) ? value : INVALID),
  }
}

/** Any JSON value: parsed from text, or a config file's value made plain (a TOML table becomes an object). */
export function json(): Kind<unknown> {
  return {
    name: 'JSON',
    placeholder: '<json>',
    expected: 'a JSON value',
    fromText: (s) => {
      try {
        return JSON.parse(s) as unknown
      } catch {
        return INVALID
      }
    },
    fromValue: (value) => {
      try {
        return value === undefined ? INVALID : (JSON.parse(JSON.stringify(value)) as unknown)
      } catch {
        return INVALID
      }
    },
  }
}

/**
 * A value only a library caller can give (a logger, a function, an object):
 * it has no flag, and `check` says whether it has the right shape.
 */
export function libraryValue<T>(expected: string, check: (value: unknown) => boolean = () => true): Kind<T> {
  return {
    name: 'object',
    placeholder: undefined,
    expected,
    fromText: () => INVALID,
    fromValue: (value) => (check(value) ? (value as T) : INVALID),
  }
}

/** Where an HTTP listener binds. */
export interface HttpListen {
  readonly host: string
  readonly port: number
}

/**
 * `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT`; with no host, 127.0.0.1,
 * so turning metrics on never exposes them beyond this machine by accident.
 * Port 0 picks a free one.
 */
export function httpListen(): Kind<HttpListen> {
  const read = (s: string): Read<HttpListen> => {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]:|([A-Za-z0-9.-]*):)?([0-9]{1,5})$/.exec(s.trim())
    if (match === null || Number(match[3]) > 65_535) return INVALID
    const host = match[1] ?? match[2] ?? ''
    return { host: host === '' ? '127.0.0.1' : host, port: Number(match[3]) }
  }
  return {
    name: 'host:port',
    placeholder: '<host:port>',
    expected: 'HOST:PORT, [IPv6]:PORT or PORT (host 127.0.0.1), port 0–65535',
    fromText: read,
    fromValue: (value) => {
      if (typeof value === 'string') return read(value)
      if (typeof value === 'number') return read(String(value))
      if (typeof value !== 'object' || value === null) return INVALID
      const { host, port } = value as { host?: unknown; port?: unknown }
      const valid = typeof host === 'string' && host.length > 0 && Number.isInteger(port) && (port as number) >= 0 && (port as number) <= 65_535
      return valid ? { host, port: port as number } : INVALID
    },
  }
}
