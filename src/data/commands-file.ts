/**
 * The client's commands file: one `address:command` per line, streamed.
 * Blank lines and `#` comments are skipped; CRLF endings are accepted.
 */
import { addressProblem, commandProblem, unbracketed } from './address.js'
import type { BadLine } from './bad-lines.js'
import { inputName, readLines } from './lines.js'

/** One command of the commands file, with its 1-based line number. */
export interface CommandLine {
  readonly line: number
  readonly address: string
  readonly command: string
}

export interface ReadCommandsOptions {
  /** Called for each line that is not a command; the line is skipped. */
  readonly onBadLine?: (bad: BadLine) => void
  /**
   * Longest line accepted, in bytes.
   * @default 65536
   */
  readonly maxLineBytes?: number
  /** Stops the reading: the generator ends as at the end of the file. */
  readonly signal?: AbortSignal
}

/**
 * Parses one line (number `line` of its file); returns the command,
 * `undefined` for a blank or comment line, or a reason.
 */
export function parseCommandLine(text: string, line = 0): CommandLine | undefined | string {
  const trimmed = text.trim()
  if (trimmed.length === 0 || trimmed.startsWith('#')) return undefined
  // Split at the last colon, so IPv6 addresses stay whole (the commands file's hot path:
  // no intermediate arrays, unlike the general splitFromRight).
  const colon = trimmed.lastIndexOf(':')
  if (colon < 0) return `expected address:command, got ${JSON.stringify(preview(trimmed))}`
  const command = trimmed.slice(colon + 1)
  const address = unbracketed(trimmed.slice(0, colon))
  return addressProblem(address) ?? commandProblem(command) ?? { line, address, command }
}

function preview(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text
}

/**
 * Streams the commands of `path`, one array per read chunk, never holding
 * the whole file. `-` reads standard input (bad lines then name `<stdin>`);
 * a FIFO is read as it is written, until its writer closes it. Throws
 * `InputError` when the file cannot be read.
 */
export async function* readCommands(path: string, options: ReadCommandsOptions = {}): AsyncGenerator<CommandLine[]> {
  const onBadLine = options.onBadLine ?? (() => undefined)
  const name = inputName(path)
  for await (const lines of readLines(path, { maxLineBytes: options.maxLineBytes, stdin: true, signal: options.signal })) {
    const commands: CommandLine[] = []
    for (const line of lines) {
      if ('error' in line) {
        onBadLine({ path: name, line: line.number, reason: `line ${line.error}` })
        continue
      }
      const parsed = parseCommandLine(line.text, line.number)
      if (parsed === undefined) continue
      if (typeof parsed === 'string') onBadLine({ path: name, line: line.number, reason: parsed })
      else commands.push(parsed)
    }
    if (commands.length > 0) yield commands
  }
}
