/**
 * Counts the command lines of a regular file without parsing them, so the
 * progress line can show a percentage and an ETA while the client still
 * streams the file under its window (it reads no further ahead than the
 * window lets it). A line counts when its first non-blank character is not
 * `#`: blank lines and comments are what the reader skips, while bad lines,
 * which it also skips, are counted, so the figure is an upper bound until
 * the input ends. Standard input, FIFOs and anything that is not a regular
 * file give `undefined`: they cannot be read twice.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'

const NEWLINE = 0x0a
const SPACE = 0x20
const TAB = 0x09
const CR = 0x0d
const HASH = 0x23

/** The command lines of `path`, or `undefined` when it is not a regular file or cannot be read. Never rejects. */
export async function countCommandLines(path: string, signal?: AbortSignal): Promise<number | undefined> {
  if (path === '-') return undefined
  try {
    if (!(await stat(path)).isFile()) return undefined
    let count = 0
    // Where the current line stands: at its start (skipping blanks), known to count, or known not to.
    let state: 'start' | 'counted' | 'skipped' = 'start'
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal }) as AsyncIterable<Buffer>) {
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i]!
        if (byte === NEWLINE) {
          state = 'start'
          continue
        }
        if (state !== 'start' || byte === SPACE || byte === TAB || byte === CR) continue
        if (byte === HASH) state = 'skipped'
        else {
          state = 'counted'
          count++
        }
        // Jump to the line's end: the rest of it cannot change the count.
        const end = chunk.indexOf(NEWLINE, i + 1)
        if (end < 0) break
        i = end - 1
      }
    }
    return count
  } catch {
    return undefined
  }
}
