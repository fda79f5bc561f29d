/**
 * A plugin's output as the Nagios plugin API reads it: the first line of
 * stdout, at most 1 KiB, with performance data after `|` split off. Pure: it
 * is handed the bytes and keeps no more than the limit, however much the
 * plugin writes, so a plugin that floods stdout costs no memory.
 */

/** The most bytes of the first line that are kept (checks.md). */
export const FIRST_LINE_MAX_BYTES = 1024

const NEWLINE = 0x0a
const decoder = new TextDecoder('utf-8')

/**
 * Collects the first line from stdout chunks. `push` every chunk; once `done`
 * (a newline seen or the limit reached) further chunks are ignored, and the
 * caller keeps reading only to drain the pipe.
 *
 * @example
 * const line = new FirstLine()
 * line.push(Buffer.from('PING OK | rta=1ms\nmore'))
 * line.done   // true
 * line.text() // 'PING OK | rta=1ms'
 */
export class FirstLine {
  private readonly bytes = Buffer.allocUnsafe(FIRST_LINE_MAX_BYTES)
  private length = 0
  private complete = false

  /** True once the line is known: a newline came or the limit was reached. */
  get done(): boolean {
    return this.complete
  }

  push(chunk: Uint8Array): void {
    if (this.complete) return
    const room = FIRST_LINE_MAX_BYTES - this.length
    const newline = chunk.indexOf(NEWLINE)
    const end = newline === -1 ? Math.min(chunk.length, room) : Math.min(newline, room)
    this.bytes.set(chunk.subarray(0, end), this.length)
    this.length += end
    this.complete = newline !== -1 || this.length === FIRST_LINE_MAX_BYTES
  }

  /** The line so far, as UTF-8 (invalid bytes become U+FFFD), without a trailing `\r` or a character cut by the limit. */
  text(): string {
    let end = this.length
    if (end === FIRST_LINE_MAX_BYTES) end = completeCharactersEnd(this.bytes, end)
    if (end > 0 && this.bytes[end - 1] === 0x0d) end -= 1
    return decoder.decode(this.bytes.subarray(0, end))
  }
}

/**
 * Where the last whole UTF-8 character of `bytes[0, end)` ends: a multi-byte
 * character cut at the limit is dropped rather than shown as U+FFFD.
 */
function completeCharactersEnd(bytes: Uint8Array, end: number): number {
  let lead = end - 1
  // Continuation bytes are 10xxxxxx; a character is at most 4 bytes.
  while (lead > 0 && end - lead < 4 && (bytes[lead]! & 0xc0) === 0x80) lead -= 1
  const byte = bytes[lead]!
  const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1
  return lead + size > end ? lead : end
}

/**
 * Splits a plugin's first line at its first `|`: the text before it is the
 * output and the text after it, when not empty, the performance data, both
 * trimmed.
 *
 * @example
 * splitPerfdata('DISK OK - 56% free | /=2643MB;5948;5958;0;5968')
 * // { output: 'DISK OK - 56% free', perfdata: '/=2643MB;5948;5958;0;5968' }
 */
export function splitPerfdata(line: string): { output: string; perfdata?: string } {
  const bar = line.indexOf('|')
  if (bar === -1) return { output: line.trim() }
  const output = line.slice(0, bar).trim()
  const perfdata = line.slice(bar + 1).trim()
  return perfdata === '' ? { output } : { output, perfdata }
}
