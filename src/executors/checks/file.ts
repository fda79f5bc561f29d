/**
 * The checks file (checks.md, docs/CHECKS.md): TOML read with smol-toml and
 * checked to the letter, so that a mistake stops the gateway or worker at
 * start with one line naming the file, the check and the value:
 *
 *     checks.toml: check "web": timeout "3x" is not a duration (250ms, 3s, 1m)
 *
 * Every problem is a {@link ConfigError} `ERR_CHECKS_FILE`; a TOML syntax
 * error names the file, line and column. Decisions the contract leaves open:
 * - `[defaults]` may omit anything: `timeout` is then 10s, `per_target` 4,
 *   and there is no rate ({@link checkDefaults});
 * - an `exec` program given as a relative path (or a bare name: there is no
 *   PATH search) is resolved against the checks file's directory, so a file
 *   and its plugins can move together; it must exist and be executable now;
 * - the worker's `--command-timeout` caps a check's `timeout` when it runs
 *   (compose.ts); this file keeps the timeout as written.
 */
import { accessSync, constants, statSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { dirname, isAbsolute, resolve } from 'node:path'
import { parse, TomlError } from 'smol-toml'
import { commandProblem } from '../../data/address.js'
import { ConfigError, errorMessage } from '../../errors.js'
import { substituteUrl } from './substitute.js'
import { targetProblem } from './targets.js'
import type { CheckDefinition, CheckKind, CheckLimits, ChecksConfig } from './types.js'

/** What `[defaults]` stands for when it omits a key (or is absent). */
export const checkDefaults: CheckLimits = { timeoutMs: 10_000, perTarget: 4 }

/** Bounds on everything a checks file holds; beyond one, the file is refused. */
export const checksFileLimits = {
  /** Size of the file itself. */
  fileBytes: 1024 * 1024,
  /** `[check.NAME]` tables. */
  checks: 1000,
  /** `targets` entries. */
  targets: 10_000,
  /** Characters of a check's NAME. */
  nameChars: 128,
  /** Elements of an `exec` array, program included. */
  argv: 256,
  /** Characters of one `exec` element. */
  argChars: 4096,
  /** Characters of an `http` URL template. */
  urlChars: 2048,
  /** Status codes in `expect`. */
  expect: 100,
  /** Longest `timeout`: 60m. */
  timeoutMs: 60 * 60_000,
  /** Largest `per_target`. */
  perTarget: 1024,
  /** Largest N of a `rate` `"N/s"` or `"N/m"`. */
  rateCount: 100_000,
} as const

const DURATION = /^([0-9]{1,9})(ms|s|m)$/
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 }
const RATE = /^([0-9]{1,9})\/(s|m)$/
const KINDS = ['exec', 'tcp', 'http'] as const
const TOP_KEYS = ['targets', 'defaults', 'check'] as const
const DEFAULT_KEYS = ['timeout', 'per_target', 'rate'] as const
const CHECK_KEYS = [...KINDS, 'expect', ...DEFAULT_KEYS] as const
const PLACEHOLDER = '{address}'

type Table = Record<string, unknown>

/** A value as a message shows it: strings quoted, short JSON for the rest. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)
  if (typeof value !== 'object' || value === null) return String(value)
  if (value instanceof Date) return value.toISOString() // a TOML date
  const json = JSON.stringify(value)
  return json.length > 80 ? `${json.slice(0, 77)}...` : json
}

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === null
}

/** Levenshtein distance, for did-you-mean on short keys. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    row = next
  }
  return row[b.length]!
}

function didYouMean(key: string, known: readonly string[]): string {
  const loose = (s: string): string => s.toLowerCase().replace(/[-_]/g, '')
  const meant = known.find((k) => loose(k) === loose(key)) ?? known.find((k) => distance(k, key) <= 2)
  return meant === undefined ? `the keys are ${known.join(', ')}` : `did you mean ${meant}?`
}

/** Reads one checks file's tables; `fail(where, what)` makes its errors. */
class Reader {
  constructor(
    readonly file: string,
    readonly baseDir: string,
  ) {}

  fail(where: string, what: string): ConfigError {
    return new ConfigError('ERR_CHECKS_FILE', `${this.file}: ${where === '' ? '' : `${where}: `}${what}`)
  }

  onlyKeys(table: Table, known: readonly string[], where: string): void {
    for (const key of Object.keys(table)) {
      if (!known.includes(key)) throw this.fail(where, `unknown key ${JSON.stringify(key)} = ${shown(table[key])} (${didYouMean(key, known)})`)
    }
  }

  duration(value: unknown, where: string): number {
    const match = typeof value === 'string' ? DURATION.exec(value) : null
    if (match === null) throw this.fail(where, `timeout ${shown(value)} is not a duration (250ms, 3s, 1m)`)
    const ms = Number(match[1]) * DURATION_MS[match[2]!]!
    if (ms === 0) throw this.fail(where, `timeout ${shown(value)} must be more than 0`)
    if (ms > checksFileLimits.timeoutMs) throw this.fail(where, `timeout ${shown(value)} is more than 60m`)
    return ms
  }

  rate(value: unknown, where: string): NonNullable<CheckLimits['rate']> {
    const match = typeof value === 'string' ? RATE.exec(value) : null
    if (match === null) throw this.fail(where, `rate ${shown(value)} is not a rate ("N/s" or "N/m", e.g. "50/s")`)
    const count = Number(match[1])
    if (count < 1 || count > checksFileLimits.rateCount) throw this.fail(where, `rate ${shown(value)}: N must be 1 to ${checksFileLimits.rateCount}`)
    return { count, intervalMs: match[2] === 's' ? 1000 : 60_000 }
  }

  perTarget(value: unknown, where: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > checksFileLimits.perTarget) {
      throw this.fail(where, `per_target ${shown(value)} is not an integer from 1 to ${checksFileLimits.perTarget}`)
    }
    return value
  }

  /** `timeout`, `per_target` and `rate` of `table`, each falling back to `base`. */
  limits(table: Table, base: CheckLimits, where: string): CheckLimits {
    const timeoutMs = table.timeout === undefined ? base.timeoutMs : this.duration(table.timeout, where)
    const perTarget = table.per_target === undefined ? base.perTarget : this.perTarget(table.per_target, where)
    const rate = table.rate === undefined ? base.rate : this.rate(table.rate, where)
    return rate === undefined ? { timeoutMs, perTarget } : { timeoutMs, perTarget, rate }
  }

  targets(value: unknown): readonly string[] {
    if (value === undefined) throw this.fail('', 'targets is required: the CIDR blocks, addresses and host-name globs checks may reach (targets = ["127.0.0.0/8"])')
    if (!Array.isArray(value)) throw this.fail('targets', `${shown(value)} is not a list of strings`)
    if (value.length === 0) throw this.fail('targets', 'the list is empty: no address could be checked')
    if (value.length > checksFileLimits.targets) throw this.fail('targets', `${value.length} entries, more than ${checksFileLimits.targets}`)
    for (const entry of value) {
      if (typeof entry !== 'string') throw this.fail('targets', `${shown(entry)} is not a string`)
      const problem = targetProblem(entry)
      if (problem !== undefined) throw this.fail('targets', problem)
    }
    return value as string[]
  }

  exec(value: unknown, where: string): CheckKind {
    if (!Array.isArray(value) || value.length === 0) throw this.fail(where, `exec ${shown(value)} is not a list of strings: the program and its arguments`)
    if (value.length > checksFileLimits.argv) throw this.fail(where, `exec has ${value.length} elements, more than ${checksFileLimits.argv}`)
    for (const arg of value) {
      if (typeof arg !== 'string') throw this.fail(where, `exec argument ${shown(arg)} is not a string`)
      if (arg.length > checksFileLimits.argChars) throw this.fail(where, `exec argument ${shown(arg)} is longer than ${checksFileLimits.argChars} characters`)
      if (arg.includes('\0')) throw this.fail(where, `exec argument ${shown(arg)} holds a NUL character`)
    }
    const [program, ...args] = value as string[]
    if (program!.length === 0) throw this.fail(where, 'exec program "" is empty')
    if (program!.includes(PLACEHOLDER)) throw this.fail(where, `exec program ${shown(program)} cannot hold {address}: only its arguments can`)
    const path = isAbsolute(program!) ? program! : resolve(this.baseDir, program!)
    const named = path === program ? shown(program) : `${shown(program)} (${path})`
    let isFile: boolean
    try {
      isFile = statSync(path).isFile()
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      throw this.fail(where, code === 'ENOENT' || code === 'ENOTDIR' ? `exec program ${named} does not exist` : `exec program ${named} cannot be read: ${errorMessage(error)}`)
    }
    if (!isFile) throw this.fail(where, `exec program ${named} is not a file`)
    try {
      accessSync(path, constants.X_OK)
    } catch {
      throw this.fail(where, `exec program ${named} is not executable`)
    }
    return { kind: 'exec', argv: [path, ...args] }
  }

  tcp(value: unknown, where: string): CheckKind {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) throw this.fail(where, `tcp port ${shown(value)} is not an integer from 1 to 65535`)
    return { kind: 'tcp', port: value }
  }

  http(value: unknown, expect: unknown, where: string): CheckKind {
    if (typeof value !== 'string' || value.length === 0) throw this.fail(where, `http ${shown(value)} is not a URL`)
    if (value.length > checksFileLimits.urlChars) throw this.fail(where, `http URL ${shown(value)} is longer than ${checksFileLimits.urlChars} characters`)
    let url: URL
    try {
      // Checked with a sample address: what the template makes of any address is checked again per command.
      url = substituteUrl(value, '192.0.2.1')
    } catch {
      throw this.fail(where, `http ${shown(value)} is not a URL (http://{address}:8080/health)`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw this.fail(where, `http ${shown(value)} is not an http:// or https:// URL`)
    return { kind: 'http', url: value, expect: expect === undefined ? 'default' : this.expect(expect, where) }
  }

  expect(value: unknown, where: string): ReadonlySet<number> {
    if (!Array.isArray(value) || value.length === 0) throw this.fail(where, `expect ${shown(value)} is not a list of HTTP status codes ([200, 204])`)
    if (value.length > checksFileLimits.expect) throw this.fail(where, `expect has ${value.length} codes, more than ${checksFileLimits.expect}`)
    for (const code of value) {
      if (typeof code !== 'number' || !Number.isInteger(code) || code < 100 || code > 599) throw this.fail(where, `expect code ${shown(code)} is not an HTTP status code (100 to 599)`)
    }
    return new Set(value as number[])
  }

  check(name: string, value: unknown, defaults: CheckLimits): CheckDefinition {
    const where = `check ${JSON.stringify(name)}`
    if (name.length > checksFileLimits.nameChars) throw this.fail(where, `the name is longer than ${checksFileLimits.nameChars} characters`)
    if (commandProblem(name) !== undefined) {
      throw this.fail(where, `the name ${JSON.stringify(name)} is not a command token (letters, digits, _ . -, as a command of the commands file)`)
    }
    if (!isTable(value)) throw this.fail(where, `${shown(value)} is not a table ([check.${name}] with one of exec, tcp or http)`)
    this.onlyKeys(value, CHECK_KEYS, where)
    const kinds = KINDS.filter((kind) => value[kind] !== undefined)
    if (kinds.length === 0) throw this.fail(where, 'no kind: give exactly one of exec, tcp or http')
    if (kinds.length > 1) throw this.fail(where, `${kinds.length} kinds (${kinds.join(', ')}): give exactly one of exec, tcp or http`)
    if (value.expect !== undefined && kinds[0] !== 'http') throw this.fail(where, `expect ${shown(value.expect)} is for http checks only`)
    const kind = kinds[0] === 'exec' ? this.exec(value.exec, where) : kinds[0] === 'tcp' ? this.tcp(value.tcp, where) : this.http(value.http, value.expect, where)
    return { ...kind, name, limits: this.limits(value, defaults, where) }
  }

  config(table: Table): ChecksConfig {
    this.onlyKeys(table, TOP_KEYS, '')
    const targets = this.targets(table.targets)
    let defaults = checkDefaults
    if (table.defaults !== undefined) {
      if (!isTable(table.defaults)) throw this.fail('defaults', `${shown(table.defaults)} is not a table ([defaults])`)
      this.onlyKeys(table.defaults, DEFAULT_KEYS, 'defaults')
      defaults = this.limits(table.defaults, checkDefaults, 'defaults')
    }
    const checks = new Map<string, CheckDefinition>()
    if (table.check !== undefined) {
      if (!isTable(table.check)) throw this.fail('check', `${shown(table.check)} is not a table of [check.NAME] tables`)
      const names = Object.keys(table.check)
      if (names.length > checksFileLimits.checks) throw this.fail('', `${names.length} checks, more than ${checksFileLimits.checks}`)
      for (const name of names) checks.set(name, this.check(name, table.check[name], defaults))
    }
    return { file: this.file, targets, checks }
  }
}

export interface ParseChecksOptions {
  /**
   * Where relative `exec` programs are resolved from.
   * @default the directory of `file`
   */
  readonly baseDir?: string
}

/**
 * Parses and checks the text of a checks file; `file` names it in messages
 * (and, unless `baseDir` says otherwise, its directory is where relative
 * `exec` programs are found). Synchronous: it checks `exec` programs with
 * `stat` and `access`, and nothing else touches the disk.
 *
 * @example
 * const config = parseChecksText('targets = ["127.0.0.0/8"]\n[check.ssh]\ntcp = 22\n', 'checks.toml')
 * config.checks.get('ssh') // { kind: 'tcp', port: 22, name: 'ssh', limits: { timeoutMs: 10000, perTarget: 4 } }
 */
export function parseChecksText(text: string, file: string, options: ParseChecksOptions = {}): ChecksConfig {
  const reader = new Reader(file, options.baseDir ?? dirname(resolve(file)))
  let table: Table
  try {
    table = parse(text.startsWith('\uFEFF') ? text.slice(1) : text) as Table
  } catch (error) {
    if (!(error instanceof TomlError)) throw error
    // smol-toml's message goes on with a code excerpt; the first line says it all.
    const reason = error.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '')
    throw new ConfigError('ERR_CHECKS_FILE', `${file}:${error.line}:${error.column}: not valid TOML: ${reason}`, { cause: error })
  }
  return reader.config(table)
}

/**
 * Reads and checks the checks file at `path` (relative to `cwd`, default the
 * working directory); messages name `path` as given.
 */
export async function readChecksFile(path: string, options: { readonly cwd?: string } = {}): Promise<ChecksConfig> {
  const full = resolve(options.cwd ?? process.cwd(), path)
  let text: string
  try {
    // Size first: a checks file is small, and a path to a device or a huge file must not be read whole.
    const info = await stat(full)
    if (!info.isFile()) throw new Error('it is not a file')
    if (info.size > checksFileLimits.fileBytes) throw new Error(`it is ${info.size} bytes, more than ${checksFileLimits.fileBytes}`)
    text = await readFile(full, 'utf8')
  } catch (error) {
    throw new ConfigError('ERR_CHECKS_FILE', `${path}: cannot read the checks file: ${errorMessage(error)}`, { cause: error })
  }
  return parseChecksText(text, path, { baseDir: dirname(full) })
}
