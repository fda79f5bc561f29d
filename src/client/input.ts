/**
 * The client's input stage, lines → commands: the first step of the one way
 * the data flows (lines → commands → batches → window → socket). A source is
 * a path (a file or a FIFO), `-` for standard input, or an iterable of
 * `{ address, command }`. Bad lines are skipped, handed to `onBadLine`, and
 * logged up to a cap (the rest counted), so memory and logs stay bounded.
 */
import { stat } from 'node:fs/promises'
import { readCommands, type CommandLine } from '../data/commands-file.js'
import { ITEMS_NAME, readCommandItems, type CommandItems } from '../data/command-items.js'
import { CappedLineLog, formatBadLine, unloggedLine, type BadLine } from '../data/bad-lines.js'
import { STDIN_PATH, inputName } from '../data/lines.js'
import { ConfigError, InputError } from '../errors.js'
import type { Logger } from '../log.js'

/** What `Client.run()` reads: a path, `-` for standard input, or an iterable (sync or async) of `{ address, command }`. */
export type CommandSource = string | CommandItems

/** How `source` is named in messages: its path, `<stdin>`, or `<iterable>`. */
export function sourceName(source: CommandSource): string {
  return typeof source === 'string' ? inputName(source) : ITEMS_NAME
}

/** Throws {@link ConfigError} unless `source` is a path or an iterable (a JavaScript caller may pass anything). */
export function assertSource(source: unknown): asserts source is CommandSource {
  if (typeof source === 'string') return
  if (typeof source === 'object' && source !== null && (Symbol.asyncIterator in source || Symbol.iterator in source)) return
  throw new ConfigError('ERR_INVALID_OPTION', 'run() takes a path, "-" for standard input, or an iterable of { address, command }')
}

export interface InputOptions {
  readonly logger: Logger
  /** Ends the reading at once, even while a FIFO waits for its writer or an iterator for its next item. */
  readonly signal: AbortSignal
  readonly onBadLine?: (bad: BadLine) => void
  /** The reading ended: every command was read (or it failed, or stopped early). Called once. */
  readonly onEnd?: () => void
}

/**
 * Streams the commands of `source` in chunks; throws `InputError` when it
 * cannot be read. Once the reading ends (done, failed or stopped early) the
 * bad lines beyond the logged ones are summed up in one line.
 *
 * A pass-through iterator rather than an async generator around the reader:
 * a delegating generator keeps the previous chunk's result in its frame while
 * the reader builds the next, so two chunks of ~4000 commands stayed alive
 * where one is needed, which doubled what survived each scavenge and made V8
 * grow the client's young generation from 16 to 30 MB.
 */
export function readInput(source: CommandSource, options: InputOptions): AsyncIterable<CommandLine[]> {
  const log = new CappedLineLog((text) => options.logger.warn(text))
  const onBadLine = (bad: BadLine): void => {
    log.add(bad)
    options.onBadLine?.(bad)
  }
  const reading = { onBadLine, signal: options.signal }
  let ended = false
  const end = (): void => {
    if (ended) return
    ended = true
    options.onEnd?.()
    const rest = unloggedLine(sourceName(source), [[log, 'bad lines']])
    if (rest !== undefined) options.logger.warn({ badLines: log.count }, rest)
  }
  return {
    [Symbol.asyncIterator]: () => {
      const inner = typeof source === 'string' ? readCommands(source, reading) : readCommandItems(source, reading)
      return {
        next: () =>
          inner.next().then(
            (result) => {
              if (result.done === true) end()
              return result
            },
            (error: unknown) => {
              end()
              throw error
            },
          ),
        return: async (): Promise<IteratorResult<CommandLine[]>> => {
          try {
            return await inner.return(undefined)
          } finally {
            end()
          }
        },
      }
    },
  }
}

/**
 * The first pass of `strict`: reads the whole file, logs the first 100 bad
 * lines and counts the rest (memory stays bounded however many there are),
 * and throws `ERR_INPUT_BAD_LINES` naming the count and the first. Only a
 * path that can be read twice qualifies: standard input, a FIFO, a device or
 * an iterable give their commands once, and the second pass would send
 * nothing, so those are refused with {@link ConfigError}.
 */
export async function checkStrict(source: CommandSource, options: Omit<InputOptions, 'onBadLine'>): Promise<void> {
  if (typeof source !== 'string') {
    throw new ConfigError(
      'ERR_INVALID_OPTION',
      `strict reads the commands twice (check, then send) and ${ITEMS_NAME} can be iterated only once; check the items before handing them over, or leave out strict`,
    )
  }
  const name = inputName(source)
  await assertRereadable(source)
  const log = new CappedLineLog((text) => options.logger.error(text))
  let first: BadLine | undefined
  const onBadLine = (line: BadLine): void => {
    first ??= line
    log.add(line)
  }
  for await (const _ of readCommands(source, { onBadLine, signal: options.signal })) void _
  if (first === undefined) return
  const rest = unloggedLine(name, [[log, 'bad lines']])
  if (rest !== undefined) options.logger.error({ badLines: log.count }, rest)
  throw new InputError('ERR_INPUT_BAD_LINES', source, `${name}: ${log.count} bad line(s), first ${formatBadLine(first)}; nothing sent (--strict)`)
}

async function assertRereadable(path: string): Promise<void> {
  let once: string | undefined
  if (path === STDIN_PATH) once = 'standard input'
  else {
    // stat() never opens the file, so it does not block on a FIFO.
    const stats = await stat(path).catch(() => undefined)
    if (stats?.isFIFO() === true) once = 'a FIFO'
    else if (stats?.isCharacterDevice() === true) once = 'a device'
  }
  if (once !== undefined) {
    throw new ConfigError(
      'ERR_INVALID_OPTION',
      `${inputName(path)} is ${once}: --strict reads the commands twice (check, then send) and ${once} can be read only once; write them to a file first, or leave out --strict`,
    )
  }
}
