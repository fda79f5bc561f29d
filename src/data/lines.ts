/**
 * Streams a text file as numbered lines with bounded memory: a line longer
 * than `maxLineBytes` is reported and skipped rather than buffered, so a
 * multi-gigabyte file without newlines cannot exhaust memory.
 *
 * Besides regular files it reads FIFOs and (with `stdin`) `-` as streams:
 * lines are yielded as they are written, until the last writer closes. A FIFO
 * is opened with O_NONBLOCK, so opening one that has no writer yet never
 * blocks a libuv thread (which nothing could cancel), and it is read through
 * the event loop (epoll), not the threadpool. `signal` ends the reading at
 * any point, even while waiting for a writer.
 */
import { close, constants, createReadStream, fstat, type Stats } from 'node:fs'
import { Socket } from 'node:net'
import { isatty, ReadStream as TtyReadStream } from 'node:tty'
import { isUtf8 } from 'node:buffer'
import { addAbortSignal, type Readable } from 'node:stream'
import { InputError, errorMessage } from '../errors.js'
import { openTracked } from '../util/pending-opens.js'
import { unlessAborted } from '../util/abortable.js'

/** The path that means standard input, where it is accepted (`stdin: true`). */
export const STDIN_PATH = '-'

/** How an input is named in messages: `<stdin>` for `-` read as standard input, else its path. */
export function inputName(path: string, stdin = true): string {
  return stdin && path === STDIN_PATH ? '<stdin>' : path
}

/** One line of a file: its 1-based number and either its text or why it is unusable. */
export type Line = { readonly number: number; readonly text: string } | { readonly number: number; readonly error: string }

export interface ReadLinesOptions {
  /**
   * Longest line accepted, in bytes.
   * @default 65536
   */
  readonly maxLineBytes?: number
  /**
   * Read standard input when the path is `-` (messages then name it `<stdin>`).
   * @default false
   */
  readonly stdin?: boolean
  /** Stops the reading: the generator ends quietly, as at the end of the file. */
  readonly signal?: AbortSignal
}

const NEWLINE = 0x0a
const CR = 0x0d
/** Like git, look for a NUL byte in the first 8 KiB to tell a binary file. */
const BINARY_SNIFF_BYTES = 8192

function toLine(number: number, bytes: Buffer): Line {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length
  const body = bytes.subarray(0, end)
  if (body.includes(0)) return { number, error: 'contains a NUL byte (binary data)' }
  if (!isUtf8(body)) return { number, error: 'is not valid UTF-8' }
  return { number, text: body.toString('utf8') }
}

/**
 * Appends the lines of `text` (complete lines without the last newline, valid
 * UTF-8, no NUL) numbered after `number`; returns the last number used.
 */
function pushDecodedLines(text: string, number: number, maxLineBytes: number, lines: Line[]): number {
  // A UTF-16 length within a third of the limit cannot exceed it in UTF-8 bytes.
  const surelyShort = Math.floor(maxLineBytes / 3)
  let from = 0
  for (;;) {
    const nl = text.indexOf('\n', from)
    let line = nl === -1 ? text.slice(from) : text.slice(from, nl)
    number++
    if (line.length > 0 && line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1)
    if (line.length > surelyShort && Buffer.byteLength(line) > maxLineBytes) lines.push({ number, error: `is longer than ${maxLineBytes} bytes` })
    else lines.push({ number, text: line })
    if (nl === -1) return number
    from = nl + 1
  }
}

function fstatAsync(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => fstat(fd, (error, stats) => (error === null ? resolve(stats) : reject(error))))
}

/**
 * Opens `path` for reading without ever blocking on a FIFO, and wraps it in
 * the stream that suits it: a socket over the event loop for a FIFO, a TTY
 * stream for a terminal, a file stream otherwise. `undefined` when `signal`
 * aborted first.
 */
async function openInput(path: string, signal: AbortSignal | undefined): Promise<Readable | undefined> {
  const opening = openTracked(path, constants.O_RDONLY | constants.O_NONBLOCK)
  const first = await unlessAborted(opening, signal)
  if (first === 'aborted') {
    // Close it whenever the open returns.
    opening.then((fd) => close(fd, () => undefined), () => undefined)
    return undefined
  }
  const fd = first
  let stats: Stats
  try {
    stats = await fstatAsync(fd)
  } catch (error) {
    close(fd, () => undefined)
    throw error
  }
  if (stats.isDirectory()) {
    close(fd, () => undefined)
    throw Object.assign(new Error('EISDIR: it is a directory'), { code: 'EISDIR' })
  }
  if (stats.isFIFO() || stats.isSocket()) return new Socket({ fd, readable: true, writable: false })
  if (isatty(fd)) return new TtyReadStream(fd)
  // O_NONBLOCK does nothing to a regular file.
  return createReadStream('', { fd, highWaterMark: 64 * 1024, autoClose: true })
}

/**
 * Yields the lines of `path` in chunks (one array per read), numbered from 1.
 * Throws {@link InputError} `ERR_INPUT_UNREADABLE` naming the path when the
 * file cannot be opened or read, or looks binary.
 */
export async function* readLines(path: string, options: ReadLinesOptions = {}): AsyncGenerator<Line[]> {
  const maxLineBytes = options.maxLineBytes ?? 65536
  const stdin = options.stdin === true && path === STDIN_PATH
  const name = inputName(path, stdin)
  const signal = options.signal
  if (signal?.aborted) return
  let stream: Readable | undefined
  try {
    stream = stdin ? process.stdin : await openInput(path, signal)
  } catch (error) {
    throw new InputError('ERR_INPUT_UNREADABLE', path, `cannot read ${name}: ${errorMessage(error)}`, { cause: error })
  }
  if (stream === undefined) return
  if (signal !== undefined) addAbortSignal(signal, stream)
  let number = 0
  let pending: Buffer[] = []
  let pendingBytes = 0
  let oversized = false
  let sniffed = 0
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      // A stream may deliver the first 8 KiB in several chunks.
      if (sniffed < BINARY_SNIFF_BYTES) {
        if (chunk.subarray(0, BINARY_SNIFF_BYTES - sniffed).includes(0)) {
          throw new InputError('ERR_INPUT_UNREADABLE', path, `${name} looks like a binary file (NUL byte near the start)`)
        }
        sniffed += chunk.length
      }
      const lines: Line[] = []
      let start = 0
      const takeLine = (nl: number): void => {
        number++
        // The CR of a CRLF ending is not part of the line.
        const endsInCr = nl > start ? chunk[nl - 1] === CR : pending.length > 0 && pending.at(-1)!.at(-1) === CR
        if (oversized || pendingBytes + (nl - start) - (endsInCr ? 1 : 0) > maxLineBytes) {
          lines.push({ number, error: `is longer than ${maxLineBytes} bytes` })
        } else if (pendingBytes === 0) {
          lines.push(toLine(number, chunk.subarray(start, nl)))
        } else {
          pending.push(chunk.subarray(start, nl))
          lines.push(toLine(number, Buffer.concat(pending, pendingBytes + (nl - start))))
        }
        pending = []
        pendingBytes = 0
        oversized = false
        start = nl + 1
      }
      // A line continuing bytes left from the previous chunk goes the careful way.
      if (pendingBytes > 0 || oversized) {
        const nl = chunk.indexOf(NEWLINE)
        if (nl !== -1) takeLine(nl)
      }
      // The other complete lines usually decode in one go, ~4x cheaper than line by line;
      // a chunk with a NUL or bad UTF-8 goes line by line, to name the lines at fault.
      const lastNl = chunk.lastIndexOf(NEWLINE)
      if (lastNl >= start && pendingBytes === 0 && !oversized) {
        const region = chunk.subarray(start, lastNl)
        if (!region.includes(0) && isUtf8(region)) {
          number = pushDecodedLines(region.toString('utf8'), number, maxLineBytes, lines)
          start = lastNl + 1
        }
      }
      for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) takeLine(nl)
      if (start < chunk.length) {
        const rest = chunk.length - start
        // One byte of slack: it may be the CR of a CRLF ending.
        if (oversized || pendingBytes + rest > maxLineBytes + 1) {
          oversized = true
          pending = []
          pendingBytes = 0
        } else {
          // Copy: the stream may reuse its chunk memory.
          pending.push(Buffer.from(chunk.subarray(start)))
          pendingBytes += rest
        }
      }
      if (lines.length > 0) yield lines
    }
    if (oversized) yield [{ number: number + 1, error: `is longer than ${maxLineBytes} bytes` }]
    else if (pendingBytes > 0) {
      // The last line has no newline: the byte of slack kept for a CR counts only if it is one.
      const last = pending.at(-1)!
      const length = last.at(-1) === CR ? pendingBytes - 1 : pendingBytes
      if (length > maxLineBytes) yield [{ number: number + 1, error: `is longer than ${maxLineBytes} bytes` }]
      else yield [toLine(number + 1, Buffer.concat(pending, pendingBytes))]
    }
  } catch (error) {
    // Stopped on purpose: the end of the input, as far as the caller is concerned.
    if (signal?.aborted) return
    if (error instanceof InputError) throw error
    throw new InputError('ERR_INPUT_UNREADABLE', path, `cannot read ${name}: ${errorMessage(error)}`, { cause: error })
  } finally {
    // Closes the descriptor too (autoClose); for stdin, stops reading it.
    stream.destroy()
  }
}
