/**
 * Commands given as objects rather than lines: any iterable, async or not,
 * of `{ address, command }`. Each item is checked as a line of the commands
 * file is, and numbered by its position (1-based), which stands in for the
 * line number in bad-line reports and command records.
 */
import { InputError, errorMessage } from '../errors.js'
import { unlessAborted } from '../util/abortable.js'
import { addressProblem, commandProblem } from './address.js'
import type { CommandLine, ReadCommandsOptions } from './commands-file.js'

/** One command of an iterable source. */
export interface CommandInput {
  readonly address: string
  readonly command: string
}

/** An iterable source of commands. */
export type CommandItems = AsyncIterable<CommandInput> | Iterable<CommandInput>

/** How an iterable source is named in messages, where a file would give its path. */
export const ITEMS_NAME = '<iterable>'

/** Items of a synchronous iterable taken per chunk: as a file's 64 KiB read gives ~4000 lines. */
const SYNC_CHUNK = 1024

/** The command of item number `position`, or why it is not one. */
export function parseCommandItem(item: unknown, position: number): CommandLine | string {
  if (typeof item !== 'object' || item === null) return `expected an { address, command } object, got ${item === null ? 'null' : typeof item}`
  const { address, command } = item as { address?: unknown; command?: unknown }
  if (typeof address !== 'string') return 'address is not a string'
  if (typeof command !== 'string') return 'command is not a string'
  return addressProblem(address) ?? commandProblem(command) ?? { line: position, address, command }
}

function isAsync(items: CommandItems): items is AsyncIterable<CommandInput> {
  return typeof (items as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function'
}

/**
 * Streams the commands of `items` in chunks, as `readCommands` does a file.
 * `signal` ends the reading at once, even while the iterator's `next()` is
 * pending (which may be for ever: a generator waiting on a queue). Throws
 * `InputError` `ERR_INPUT_UNREADABLE` when the iterator throws.
 */
export async function* readCommandItems(items: CommandItems, options: Omit<ReadCommandsOptions, 'maxLineBytes'> = {}): AsyncGenerator<CommandLine[]> {
  const onBadLine = options.onBadLine ?? (() => undefined)
  const signal = options.signal
  // A function, not a narrowed property: the signal aborts while this generator awaits.
  const aborted = (): boolean => signal?.aborted === true
  if (aborted()) return
  let position = 0
  const take = (item: unknown, into: CommandLine[]): void => {
    const parsed = parseCommandItem(item, ++position)
    if (typeof parsed === 'string') onBadLine({ path: ITEMS_NAME, line: position, reason: parsed })
    else into.push(parsed)
  }
  const iterator: AsyncIterator<unknown> | Iterator<unknown> = isAsync(items) ? items[Symbol.asyncIterator]() : items[Symbol.iterator]()
  let done = false
  try {
    while (!done) {
      const chunk: CommandLine[] = []
      if (isAsync(items)) {
        const step = await unlessAborted(Promise.resolve((iterator as AsyncIterator<unknown>).next()), signal)
        if (step === 'aborted') return
        if (step.done === true) done = true
        else take(step.value, chunk)
      } else {
        while (chunk.length < SYNC_CHUNK) {
          const step = (iterator as Iterator<unknown>).next()
          if (step.done === true) {
            done = true
            break
          }
          take(step.value, chunk)
        }
      }
      if (chunk.length > 0) yield chunk
      if (aborted()) return
    }
  } catch (error) {
    if (aborted()) return
    done = true // an iterator that threw is finished
    throw new InputError('ERR_INPUT_UNREADABLE', ITEMS_NAME, `cannot read ${ITEMS_NAME}: ${errorMessage(error)}`, { cause: error })
  } finally {
    // Stopped early: let the iterator clean up. Not awaited: an async generator's return()
    // waits for its pending next(), which may never settle.
    if (!done) {
      try {
        Promise.resolve(iterator.return?.()).catch(() => undefined)
      } catch {
        // Its clean-up failing is no reason to fail the run.
      }
    }
  }
}
