/**
 * The client's input stages: an iterable of { address, command } read as a
 * commands file is (src/data/command-items.ts), the source checks of
 * src/client/input.ts, and commands → batches (feedBatches).
 */
import { describe, expect, it } from 'vitest'
import { Batcher, feedBatches, type Batch } from '../../src/client/batcher.js'
import { assertSource, checkStrict, readInput, sourceName } from '../../src/client/input.js'
import type { BadLine } from '../../src/data/bad-lines.js'
import { readCommandItems } from '../../src/data/command-items.js'
import type { CommandLine } from '../../src/data/commands-file.js'
import { pino } from 'pino'
import { silentLogger } from '../../src/log.js'

async function collect<T>(chunks: AsyncIterable<readonly T[]>): Promise<T[]> {
  const all: T[] = []
  for await (const chunk of chunks) all.push(...chunk)
  return all
}

async function* slowly<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) {
    await new Promise((resolve) => setImmediate(resolve))
    yield item
  }
}

describe('an async iterable of commands', () => {
  it('gives each command its 1-based position as its line, bad items included in the count', async () => {
    const bad: BadLine[] = []
    const items = [
      { address: '10.0.0.1', command: 'foo' },
      { address: '10.0.0.300', command: 'foo' },
      { address: 'db.example.com', command: 'ping' },
      { address: '2001:db8::1', command: 'bar' },
    ]
    const commands = await collect(readCommandItems(slowly(items), { onBadLine: (b) => bad.push(b) }))
    expect(commands).toEqual([
      { line: 1, address: '10.0.0.1', command: 'foo' },
      { line: 3, address: 'db.example.com', command: 'ping' },
      { line: 4, address: '2001:db8::1', command: 'bar' },
    ])
    expect(bad).toEqual([{ path: '<iterable>', line: 2, reason: '"10.0.0.300" is not a valid IPv4 address' }])
  })

  it.each([
    { what: 'null', item: null, reason: /expected an \{ address, command \} object, got null/ },
    { what: 'a string', item: '10.0.0.1:foo', reason: /got string/ },
    { what: 'a numeric address', item: { address: 1, command: 'foo' }, reason: /address is not a string/ },
    { what: 'no command', item: { address: '10.0.0.1' }, reason: /command is not a string/ },
    { what: 'an empty address', item: { address: '', command: 'foo' }, reason: /address is empty/ },
    { what: 'a command with a space', item: { address: '10.0.0.1', command: 'rm -rf' }, reason: /not a token/ },
  ])('skips $what as a bad line with a reason', async ({ item, reason }) => {
    const bad: BadLine[] = []
    const commands = await collect(readCommandItems(slowly([item as never, { address: '10.0.0.1', command: 'ok' }]), { onBadLine: (b) => bad.push(b) }))
    expect(commands).toEqual([{ line: 2, address: '10.0.0.1', command: 'ok' }])
    expect(bad).toHaveLength(1)
    expect(bad[0]!.line).toBe(1)
    expect(bad[0]!.reason).toMatch(reason)
  })

  it('ends at once when the signal aborts while next() is pending for ever, and asks the iterator to return', async () => {
    let returned = false
    const never: AsyncIterable<{ address: string; command: string }> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise(() => undefined),
        return: async () => {
          returned = true
          return { done: true, value: undefined }
        },
      }),
    }
    const controller = new AbortController()
    const reading = collect(readCommandItems(never, { signal: controller.signal }))
    await new Promise((resolve) => setImmediate(resolve))
    controller.abort()
    await expect(reading).resolves.toEqual([])
    expect(returned).toBe(true)
  })

  it('rejects with ERR_INPUT_UNREADABLE naming <iterable> when the iterator throws, keeping the cause', async () => {
    const cause = new Error('queue closed')
    async function* failing(): AsyncGenerator<{ address: string; command: string }> {
      yield { address: '10.0.0.1', command: 'foo' }
      throw cause
    }
    await expect(collect(readCommandItems(failing()))).rejects.toMatchObject({
      code: 'ERR_INPUT_UNREADABLE',
      path: '<iterable>',
      message: 'cannot read <iterable>: queue closed',
      cause,
    })
  })
})

describe('a synchronous iterable of commands (an array)', () => {
  it('is read in chunks, numbered by position', async () => {
    const items = Array.from({ length: 2500 }, (_, i) => ({ address: '10.0.0.1', command: `c${i}` }))
    const chunks: CommandLine[][] = []
    for await (const chunk of readCommandItems(items)) chunks.push(chunk)
    expect(chunks.map((c) => c.length)).toEqual([1024, 1024, 452])
    expect(chunks.flat().map((c) => c.line)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1))
  })
})

describe('the source given to run()', () => {
  it.each([{ source: 'commands.txt' }, { source: '-' }, { source: [] }, { source: slowly([]) }])('accepts $source', ({ source }) => {
    expect(() => assertSource(source)).not.toThrow()
  })

  it.each([{ source: 42 }, { source: null }, { source: { address: '10.0.0.1', command: 'foo' } }])('refuses $source with ConfigError', ({ source }) => {
    expect(() => assertSource(source)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
  })

  it('is named by its path, <stdin> for -, and <iterable> otherwise', () => {
    expect([sourceName('c.txt'), sourceName('-'), sourceName([])]).toEqual(['c.txt', '<stdin>', '<iterable>'])
  })

  it('refuses strict for an iterable, which can be read only once, before reading any of it', async () => {
    let read = false
    const items = {
      [Symbol.iterator]: function* () {
        read = true
        yield { address: '10.0.0.1', command: 'foo' }
      },
    }
    await expect(checkStrict(items, { logger: silentLogger(), signal: new AbortController().signal })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringContaining('<iterable> can be iterated only once'),
    })
    expect(read).toBe(false)
  })

  it('sums up the bad lines beyond the logged ones once the reading ends, and once only', async () => {
    const lines: string[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line).msg as string) })
    const items = Array.from({ length: 150 }, () => ({ address: 'x y', command: 'foo' }))
    const input = readInput(items, { logger, signal: new AbortController().signal })
    expect(await collect(input)).toEqual([])
    expect(lines.filter((l) => l.includes('more bad lines'))).toEqual(['<iterable>: 50 more bad lines not logged (only the first 100 are)'])
    expect(lines).toHaveLength(101)
  })

  it('closes the source and still sums up the bad lines when the consumer stops early', async () => {
    const lines: string[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line).msg as string) })
    let closed = false
    async function* items(): AsyncGenerator<{ address: string; command: string }> {
      try {
        for (let i = 0; i < 120; i++) yield { address: 'x y', command: 'foo' }
        for (let i = 0; i < 5000; i++) yield { address: '10.0.0.1', command: 'foo' }
      } finally {
        closed = true
      }
    }
    for await (const chunk of readInput(items(), { logger, signal: new AbortController().signal })) {
      expect(chunk.length).toBeGreaterThan(0)
      break
    }
    expect(closed).toBe(true)
    expect(lines.filter((l) => l.includes('more bad lines'))).toEqual(['<iterable>: 20 more bad lines not logged (only the first 100 are)'])
  })

  it('reports bad items to onBadLine through readInput, as for a file', async () => {
    const bad: BadLine[] = []
    const commands = await collect(
      readInput([{ address: 'x y', command: 'foo' }], { logger: silentLogger(), signal: new AbortController().signal, onBadLine: (b) => bad.push(b) }),
    )
    expect(commands).toEqual([])
    expect(bad.map((b) => [b.path, b.line])).toEqual([['<iterable>', 1]])
  })
})

describe('feedBatches, commands → batches', () => {
  const command = (n: number): CommandLine => ({ line: n, address: '10.0.0.1', command: `c${n}` })
  async function* chunks(...sizes: number[]): AsyncGenerator<CommandLine[]> {
    let n = 0
    for (const size of sizes) yield Array.from({ length: size }, () => command(++n))
  }

  it('cuts batches across chunk boundaries and flushes the partial last one', async () => {
    const batcher = new Batcher(3)
    const batches: Batch[] = []
    await feedBatches(chunks(2, 2, 3), batcher, async (batch) => {
      batches.push(batch)
    })
    expect(batches.map((b) => b.commands?.map((c) => c.line))).toEqual([[1, 2, 3], [4, 5, 6], [7]])
    expect([batcher.count, batcher.commandCount]).toEqual([3, 7])
  })

  it('waits for each admit before it cuts the next batch, so back-pressure holds the reading back', async () => {
    const batcher = new Batcher(2)
    let release!: () => void
    const seen: number[] = []
    const feeding = feedBatches(chunks(6), batcher, (batch) => {
      seen.push(batch.seq)
      return batch.seq === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()
    })
    await new Promise((resolve) => setImmediate(resolve))
    expect([seen, batcher.count]).toEqual([[1], 1])
    release()
    await feeding
    expect(seen).toEqual([1, 2, 3])
  })

  it('closes the stream it leaves early: after an abort, and when admit throws (which it passes on)', async () => {
    let closed = 0
    async function* closing(): AsyncGenerator<CommandLine[]> {
      try {
        yield* chunks(2, 2, 3)
      } finally {
        closed++
      }
    }
    const controller = new AbortController()
    await feedBatches(closing(), new Batcher(3), async () => controller.abort(), controller.signal)
    expect(closed).toBe(1)
    const failing = feedBatches(closing(), new Batcher(3), () => Promise.reject(new Error('listener threw')))
    await expect(failing).rejects.toThrow('listener threw')
    expect(closed).toBe(2)
  })

  it('takes no chunk that arrives after the signal aborted, and still flushes what it holds', async () => {
    const controller = new AbortController()
    const batcher = new Batcher(3)
    const batches: Batch[] = []
    const admit = async (batch: Batch): Promise<void> => {
      batches.push(batch)
      controller.abort() // after the first batch (taken from the second chunk)
    }
    await feedBatches(chunks(2, 2, 3), batcher, admit, controller.signal)
    expect(batches.map((b) => b.size)).toEqual([3, 1])
    expect(batcher.commandCount).toBe(4)
  })
})
