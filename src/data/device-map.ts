/**
 * The simulated devices: `address:command:response:wait` lines, where the
 * device answers `response` (an integer) after `wait` seconds.
 */
import { addressProblem, commandProblem, splitFromRight } from './address.js'
import { formatBadLine, type BadLine } from './bad-lines.js'
import { InputError } from '../errors.js'
import { readLines } from './lines.js'

/** What one simulated device answers to one command. */
export interface DeviceEntry {
  readonly response: number
  readonly waitMs: number
  /** Line of the map file that defined it. */
  readonly line: number
}

/** Longest simulated wait: one day. */
export const MAX_WAIT_SECONDS = 86_400

const INTEGER = /^-?[0-9]{1,16}$/
const SECONDS = /^[0-9]{1,6}(\.[0-9]{1,6})?$/

/** Parses one map line; returns the entry, `undefined` for blank or comment lines, or a reason. */
export function parseDeviceLine(
  text: string,
): { address: string; command: string; response: number; waitMs: number } | undefined | string {
  const trimmed = text.trim()
  if (trimmed.length === 0 || trimmed.startsWith('#')) return undefined
  const split = splitFromRight(trimmed, 3)
  if (split === undefined) return 'expected address:command:response:wait'
  const [command, responseText, waitText] = split.rest as [string, string, string]
  const problem = addressProblem(split.address) ?? commandProblem(command)
  if (problem !== undefined) return problem
  const response = Number(responseText)
  if (!INTEGER.test(responseText) || !Number.isSafeInteger(response)) {
    return `response ${JSON.stringify(responseText)} is not an integer`
  }
  const wait = Number(waitText)
  if (!SECONDS.test(waitText) || wait > MAX_WAIT_SECONDS) {
    return `wait ${JSON.stringify(waitText)} is not a number of seconds from 0 to ${MAX_WAIT_SECONDS}`
  }
  return { address: split.address, command, response, waitMs: Math.round(wait * 1000) }
}

/** Simulated devices keyed by address, then command. */
export class DeviceMap {
  private readonly devices = new Map<string, Map<string, DeviceEntry>>()
  private entries = 0

  /** Number of address/command entries. */
  get size(): number {
    return this.entries
  }

  /** Adds or replaces an entry; returns the entry it replaced. */
  set(address: string, command: string, entry: DeviceEntry): DeviceEntry | undefined {
    const key = address.toLowerCase()
    let commands = this.devices.get(key)
    if (commands === undefined) {
      commands = new Map()
      this.devices.set(key, commands)
    }
    const previous = commands.get(command)
    commands.set(command, entry)
    if (previous === undefined) this.entries++
    return previous
  }

  get(address: string, command: string): DeviceEntry | undefined {
    // Exact match first: lower-casing every lookup would cost a string per command.
    const commands = this.devices.get(address) ?? this.devices.get(address.toLowerCase())
    return commands?.get(command)
  }
}

export interface LoadDeviceMapOptions {
  /** Called for each skipped line. */
  readonly onBadLine?: (bad: BadLine) => void
  /** Called when a later line redefines an entry; the later one wins. */
  readonly onDuplicate?: (duplicate: BadLine & { readonly firstLine: number }) => void
  /**
   * Throw {@link InputError} `ERR_INPUT_BAD_LINES` if any line is bad.
   * @default false
   */
  readonly strict?: boolean
}

/**
 * Loads a device map file. Throws {@link InputError} when the file cannot be
 * read, has no entries, or (in strict mode) has bad lines.
 */
export async function loadDeviceMap(path: string, options: LoadDeviceMapOptions = {}): Promise<DeviceMap> {
  const map = new DeviceMap()
  let bad = 0
  // Only the first bad line is kept (for the strict error); the rest are counted.
  let firstBad: BadLine | undefined
  for await (const lines of readLines(path)) {
    for (const line of lines) {
      const parsed = 'error' in line ? `line ${line.error}` : parseDeviceLine(line.text)
      if (parsed === undefined) continue
      if (typeof parsed === 'string') {
        bad++
        const badLine = { path, line: line.number, reason: parsed }
        firstBad ??= badLine
        options.onBadLine?.(badLine)
        continue
      }
      const previous = map.set(parsed.address, parsed.command, {
        response: parsed.response,
        waitMs: parsed.waitMs,
        line: line.number,
      })
      if (previous !== undefined) {
        options.onDuplicate?.({
          path,
          line: line.number,
          firstLine: previous.line,
          reason: `duplicate entry for ${parsed.address}:${parsed.command} (also at line ${previous.line}); line ${line.number} wins`,
        })
      }
    }
  }
  if (bad > 0 && options.strict === true) {
    throw new InputError('ERR_INPUT_BAD_LINES', path, `${path}: ${bad} bad line(s), first ${formatBadLine(firstBad!)}; refusing to start (--strict)`)
  }
  if (map.size === 0) throw new InputError('ERR_INPUT_EMPTY', path, `${path} has no device entries`)
  return map
}
