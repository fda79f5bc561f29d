import { isUtf8 } from 'node:buffer'
import { execFileSync } from 'node:child_process'
import { closeSync, constants, openSync, writeSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseCommandLine, readCommands, type CommandLine } from '../../src/data/commands-file.js'
import { loadDeviceMap, parseDeviceLine, type DeviceMap } from '../../src/data/device-map.js'
import { readLines, type Line } from '../../src/data/lines.js'
import type { BadLine } from '../../src/data/bad-lines.js'
import { InputError } from '../../src/errors.js'
import { seededRandom } from '../helpers/random.js'
import { waitFor } from '../helpers/processes.js'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cgp-input-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Writes `content` to a fresh file in the test's directory and returns its path. */
async function fixture(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, content)
  return path
}

async function allLines(path: string, maxLineBytes?: number): Promise<Line[]> {
  const lines: Line[] = []
  for await (const chunk of readLines(path, { maxLineBytes })) lines.push(...chunk)
  return lines
}

async function allCommands(path: string, maxLineBytes?: number): Promise<{ commands: CommandLine[]; bad: BadLine[] }> {
  const commands: CommandLine[] = []
  const bad: BadLine[] = []
  for await (const chunk of readCommands(path, { onBadLine: (b) => bad.push(b), maxLineBytes })) commands.push(...chunk)
  return { commands, bad }
}

async function loadMap(
  path: string,
  strict = false,
): Promise<{ map: DeviceMap; bad: BadLine[]; duplicates: (BadLine & { firstLine: number })[] }> {
  const bad: BadLine[] = []
  const duplicates: (BadLine & { firstLine: number })[] = []
  const map = await loadDeviceMap(path, { strict, onBadLine: (b) => bad.push(b), onDuplicate: (d) => duplicates.push(d) })
  return { map, bad, duplicates }
}

describe('parseCommandLine on a good line', () => {
  it.each([
    { line: '10.0.0.1:foo', address: '10.0.0.1', command: 'foo' },
    { line: '2001:db8::1:foo', address: '2001:db8::1', command: 'foo' }, // splits at the last colon
    { line: '[2001:db8::1]:foo', address: '2001:db8::1', command: 'foo' },
    { line: '::1:status', address: '::1', command: 'status' },
    { line: '[fe80::1]:get_temp', address: 'fe80::1', command: 'get_temp' },
    { line: 'router-7.example.org:get_temp', address: 'router-7.example.org', command: 'get_temp' },
    { line: 'localhost:a.b-c_D9', address: 'localhost', command: 'a.b-c_D9' },
    { line: 'fqdn.example.:foo', address: 'fqdn.example.', command: 'foo' },
    { line: '  10.0.0.1:foo \t', address: '10.0.0.1', command: 'foo' },
    { line: '10.0.0.1:foo\r', address: '10.0.0.1', command: 'foo' },
  ])('reads $line as $address and $command', ({ line, address, command }) => {
    expect(parseCommandLine(line, 7)).toEqual({ line: 7, address, command })
  })
})

describe('parseCommandLine on a line without a command', () => {
  it.each([{ line: '' }, { line: '   ' }, { line: '\t\r' }, { line: '# a comment' }, { line: '   # indented: 10.0.0.1:foo' }])(
    'skips $line',
    ({ line }) => {
      expect(parseCommandLine(line)).toBeUndefined()
    },
  )
})

describe('parseCommandLine on a bad line', () => {
  it.each([
    { what: 'an IPv4 octet over 255', line: '137.72.95.300:foo', reason: '"137.72.95.300" is not a valid IPv4 address' },
    { what: 'too few IPv4 octets', line: '10.0.1:foo', reason: 'not a valid IPv4 address' },
    { what: 'an empty address', line: ':foo', reason: 'the address is empty' },
    { what: 'an empty command', line: '10.0.0.1:', reason: 'the command is empty' },
    { what: 'no colon', line: '10.0.0.1 foo', reason: 'expected address:command' },
    { what: 'a command with a space', line: '10.0.0.1:fo o', reason: 'is not a token' },
    { what: 'a command with a semicolon', line: '10.0.0.1:foo;reboot', reason: 'is not a token' },
    { what: 'a command with a non-ASCII letter', line: '10.0.0.1:föo', reason: 'is not a token' },
    { what: 'a host name with a bang', line: 'bad_host!:foo', reason: 'is not an IPv4, IPv6 or host name' },
    { what: 'a host label starting with a hyphen', line: '-router:foo', reason: 'is not an IPv4, IPv6 or host name' },
    { what: 'an empty host label', line: 'a..b:foo', reason: 'is not an IPv4, IPv6 or host name' },
    { what: 'an IPv6 address without a command', line: '2001:db8::1', reason: 'is not an IPv4, IPv6 or host name' },
    { what: 'a bad IPv6 address', line: '2001:db8:::1:foo', reason: 'is not an IPv4, IPv6 or host name' },
  ])('gives a reason for $what', ({ line, reason }) => {
    expect(parseCommandLine(line)).toEqual(expect.stringContaining(reason))
  })
})

describe('parseDeviceLine on a good line', () => {
  it.each([
    { line: '10.0.0.1:foo:1:1', address: '10.0.0.1', command: 'foo', response: 1, waitMs: 1000 },
    { line: '2001:db8::1:foo:42:0.5', address: '2001:db8::1', command: 'foo', response: 42, waitMs: 500 },
    { line: '[2001:db8::1]:foo:-7:0', address: '2001:db8::1', command: 'foo', response: -7, waitMs: 0 },
    { line: 'host.example:bar:0:86400', address: 'host.example', command: 'bar', response: 0, waitMs: 86_400_000 },
    { line: 'h:c:9007199254740991:0.001', address: 'h', command: 'c', response: Number.MAX_SAFE_INTEGER, waitMs: 1 },
    { line: ' 10.0.0.1:foo:1:1\r', address: '10.0.0.1', command: 'foo', response: 1, waitMs: 1000 },
  ])('reads $line', ({ line, address, command, response, waitMs }) => {
    expect(parseDeviceLine(line)).toEqual({ address, command, response, waitMs })
  })

  it.each([{ line: '' }, { line: '# 10.0.0.1:foo:1:1' }])('skips $line', ({ line }) => {
    expect(parseDeviceLine(line)).toBeUndefined()
  })
})

describe('parseDeviceLine on a bad line', () => {
  it.each([
    { what: 'a missing wait', line: '10.0.0.1:foo:1', reason: 'expected address:command:response:wait' },
    { what: 'only an address', line: 'host', reason: 'expected address:command:response:wait' },
    { what: 'an IPv4 octet over 255', line: '137.72.95.300:foo:1:1', reason: 'not a valid IPv4 address' },
    { what: 'an empty address', line: ':foo:1:1', reason: 'the address is empty' },
    { what: 'a command with bad characters', line: '10.0.0.1:fo/o:1:1', reason: 'is not a token' },
    { what: 'a fractional response', line: '10.0.0.1:foo:1.5:1', reason: 'response "1.5" is not an integer' },
    { what: 'a word as response', line: '10.0.0.1:foo:one:1', reason: 'response "one" is not an integer' },
    { what: 'an empty response', line: '10.0.0.1:foo::1', reason: 'response "" is not an integer' },
    { what: 'an exponent response', line: '10.0.0.1:foo:1e3:1', reason: 'response "1e3" is not an integer' },
    { what: 'a response with a plus sign', line: '10.0.0.1:foo:+1:1', reason: 'is not an integer' },
    { what: 'a response beyond 2^53', line: '10.0.0.1:foo:9007199254740993:1', reason: 'is not an integer' },
    { what: 'a negative wait', line: '10.0.0.1:foo:1:-1', reason: 'wait "-1" is not a number of seconds from 0 to 86400' },
    { what: 'a wait over a day', line: '10.0.0.1:foo:1:86401', reason: 'wait "86401"' },
    { what: 'a wait just over a day', line: '10.0.0.1:foo:1:86400.5', reason: 'wait "86400.5"' },
    { what: 'a word as wait', line: '10.0.0.1:foo:1:soon', reason: 'wait "soon"' },
    { what: 'an empty wait', line: '10.0.0.1:foo:1:', reason: 'wait ""' },
    { what: 'a wait with a comma', line: '10.0.0.1:foo:1:1,5', reason: 'wait "1,5"' },
    { what: 'Infinity as wait', line: '10.0.0.1:foo:1:Infinity', reason: 'wait "Infinity"' },
  ])('gives a reason for $what', ({ line, reason }) => {
    expect(parseDeviceLine(line)).toEqual(expect.stringContaining(reason))
  })
})

describe('readLines on a text file', () => {
  it('numbers lines from 1 and strips LF and CRLF endings', async () => {
    const path = await fixture('mixed.txt', 'one\r\ntwo\n\nfour\r\n')
    expect(await allLines(path)).toEqual([
      { number: 1, text: 'one' },
      { number: 2, text: 'two' },
      { number: 3, text: '' },
      { number: 4, text: 'four' },
    ])
  })

  it('reads a last line that has no trailing newline', async () => {
    const path = await fixture('no-eol.txt', 'one\ntwo')
    expect(await allLines(path)).toEqual([
      { number: 1, text: 'one' },
      { number: 2, text: 'two' },
    ])
  })

  it('yields nothing for an empty file', async () => {
    expect(await allLines(await fixture('empty.txt', ''))).toEqual([])
  })

  it('joins a line that spans a read chunk, including a UTF-8 character split across it', async () => {
    // Reads are 64 KiB; put 'é' (2 bytes) across the boundary at 65536.
    const first = 'a'.repeat(40_000)
    const second = `${'b'.repeat(65_536 - 40_001 - 1)}é${'c'.repeat(10)}`
    const path = await fixture('span.txt', `${first}\n${second}\nlast\n`)
    expect(await allLines(path)).toEqual([
      { number: 1, text: first },
      { number: 2, text: second },
      { number: 3, text: 'last' },
    ])
  })

  it('strips a CR whose LF arrives in the next read chunk', async () => {
    const first = 'x'.repeat(65_535) // the CR is byte 65535, the LF byte 65536
    const path = await fixture('split-crlf.txt', `${first}\r\nnext\r\n`)
    expect(await allLines(path, 70_000)).toEqual([
      { number: 1, text: first },
      { number: 2, text: 'next' },
    ])
  })

  it('accepts a line of exactly maxLineBytes and reports one byte more', async () => {
    const path = await fixture('limit.txt', 'abcd\nabcde\nabc')
    expect(await allLines(path, 4)).toEqual([
      { number: 1, text: 'abcd' },
      { number: 2, error: 'is longer than 4 bytes' },
      { number: 3, text: 'abc' },
    ])
  })

  it('does not count the CR of a CRLF ending against maxLineBytes', async () => {
    const path = await fixture('limit-crlf.txt', 'abcd\r\nabc\r\n')
    expect(await allLines(path, 4)).toEqual([
      { number: 1, text: 'abcd' },
      { number: 2, text: 'abc' },
    ])
  })

  it('reports a NUL byte after the first 8 KiB as a bad line and reads on', async () => {
    const path = await fixture('late-nul.txt', `${'a'.repeat(9000)}\nx\0y\nz\n`)
    expect(await allLines(path)).toEqual([
      { number: 1, text: 'a'.repeat(9000) },
      { number: 2, error: 'contains a NUL byte (binary data)' },
      { number: 3, text: 'z' },
    ])
  })

  it('reports a line that is not valid UTF-8 and reads on', async () => {
    const path = await fixture('latin1.txt', Buffer.concat([Buffer.from('ok\n'), Buffer.from([0x66, 0xf6, 0x6f, 0x0a]), Buffer.from('ok\n')]))
    expect(await allLines(path)).toEqual([
      { number: 1, text: 'ok' },
      { number: 2, error: 'is not valid UTF-8' },
      { number: 3, text: 'ok' },
    ])
  })
})

describe('readCommands on a commands file', () => {
  it('yields every command with its line number, skipping blank lines and comments', async () => {
    const path = await fixture(
      'commands.txt',
      [
        '# devices of rack 7',
        '10.0.0.1:foo',
        '',
        '   ',
        '2001:db8::1:bar',
        '  # indented comment',
        '[2001:db8::2]:baz',
        'router-7.example.org:get_temp',
      ].join('\n') + '\n',
    )
    const { commands, bad } = await allCommands(path)
    expect(bad).toEqual([])
    expect(commands).toEqual([
      { line: 2, address: '10.0.0.1', command: 'foo' },
      { line: 5, address: '2001:db8::1', command: 'bar' },
      { line: 7, address: '2001:db8::2', command: 'baz' },
      { line: 8, address: 'router-7.example.org', command: 'get_temp' },
    ])
  })

  it('accepts CRLF endings and a last line without a newline', async () => {
    const path = await fixture('crlf.txt', '10.0.0.1:foo\r\n\r\n10.0.0.2:bar\r\n10.0.0.3:baz')
    const { commands, bad } = await allCommands(path)
    expect(bad).toEqual([])
    expect(commands).toEqual([
      { line: 1, address: '10.0.0.1', command: 'foo' },
      { line: 3, address: '10.0.0.2', command: 'bar' },
      { line: 4, address: '10.0.0.3', command: 'baz' },
    ])
  })

  it('ignores a UTF-8 byte order mark at the start of the file', async () => {
    const path = await fixture('bom.txt', '\ufeff10.0.0.1:foo\n10.0.0.2:bar\n')
    expect(await allCommands(path)).toEqual({
      commands: [
        { line: 1, address: '10.0.0.1', command: 'foo' },
        { line: 2, address: '10.0.0.2', command: 'bar' },
      ],
      bad: [],
    })
  })

  it('reports each bad line with the path and its 1-based line number, and keeps the good ones', async () => {
    const path = await fixture(
      'bad.txt',
      ['10.0.0.1:foo', '137.72.95.300:foo', ':foo', '10.0.0.1:f o', 'nocolon', '10.0.0.2:bar'].join('\n'),
    )
    const { commands, bad } = await allCommands(path)
    expect(commands.map((c) => c.line)).toEqual([1, 6])
    expect(bad).toEqual([
      { path, line: 2, reason: expect.stringContaining('not a valid IPv4 address') },
      { path, line: 3, reason: 'the address is empty' },
      { path, line: 4, reason: expect.stringContaining('is not a token') },
      { path, line: 5, reason: expect.stringContaining('expected address:command') },
    ])
  })

  it('reports a line over 64 KiB with its line number and still reads the lines after it', async () => {
    const long = `10.0.0.1:${'a'.repeat(70_000)}`
    const path = await fixture('long.txt', ['10.0.0.1:foo', long, '10.0.0.2:bar', '10.0.0.3:baz'].join('\n') + '\n')
    const { commands, bad } = await allCommands(path)
    expect(bad).toEqual([{ path, line: 2, reason: 'line is longer than 65536 bytes' }])
    expect(commands).toEqual([
      { line: 1, address: '10.0.0.1', command: 'foo' },
      { line: 3, address: '10.0.0.2', command: 'bar' },
      { line: 4, address: '10.0.0.3', command: 'baz' },
    ])
  })

  it('reports a line spanning several read chunks once, with the right line number', async () => {
    const long = 'x'.repeat(300_000)
    const path = await fixture('very-long.txt', ['10.0.0.1:foo', '10.0.0.2:foo', long, '10.0.0.3:foo'].join('\n'))
    const { commands, bad } = await allCommands(path)
    expect(bad).toEqual([{ path, line: 3, reason: 'line is longer than 65536 bytes' }])
    expect(commands.map((c) => c.line)).toEqual([1, 2, 4])
  })

  it('reports a last line without newline that is one byte over the limit, and accepts one at the limit', async () => {
    const over = await fixture('tail-over.txt', `10.0.0.1:foo\n${'x'.repeat(65_537)}`)
    expect((await allCommands(over)).bad).toEqual([{ path: over, line: 2, reason: 'line is longer than 65536 bytes' }])
    const at = await fixture('tail-at.txt', `10.0.0.1:foo\n${'x'.repeat(65_536)}`)
    expect((await allCommands(at)).bad).toEqual([{ path: at, line: 2, reason: expect.stringContaining('expected address:command') }])
  })

  it('reports an over-long last line that has no newline', async () => {
    const path = await fixture('long-tail.txt', `10.0.0.1:foo\n${'x'.repeat(70_000)}`)
    const { commands, bad } = await allCommands(path)
    expect(commands.map((c) => c.line)).toEqual([1])
    expect(bad).toEqual([{ path, line: 2, reason: 'line is longer than 65536 bytes' }])
  })

  it('honours a smaller maxLineBytes', async () => {
    const path = await fixture('short-limit.txt', '10.0.0.1:foo\n10.0.0.1:foobar\n')
    const { commands, bad } = await allCommands(path, 12)
    expect(commands.map((c) => c.line)).toEqual([1])
    expect(bad).toEqual([{ path, line: 2, reason: 'line is longer than 12 bytes' }])
  })

  it('yields no commands for an empty file', async () => {
    expect(await allCommands(await fixture('empty.txt', ''))).toEqual({ commands: [], bad: [] })
  })
})

describe('readCommands on a FIFO', () => {
  /** Opens the FIFO's write end without blocking, once its reader has opened it. */
  async function openWriter(path: string): Promise<number> {
    let fd = -1
    await waitFor(() => {
      try {
        fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)
        return true
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENXIO') return false // no reader yet
        throw error
      }
    }, 'the reader to open the FIFO', 3000)
    return fd
  }

  it('yields lines as they are written, and ends when the writer closes', async () => {
    const path = join(dir, 'commands.fifo')
    execFileSync('mkfifo', [path])
    const reader = readCommands(path)[Symbol.asyncIterator]()
    const first = reader.next()
    const writer = await openWriter(path)
    try {
      writeSync(writer, '10.0.0.1:foo\n')
      expect(await first).toEqual({ done: false, value: [{ line: 1, address: '10.0.0.1', command: 'foo' }] })
      const second = reader.next()
      writeSync(writer, 'bad line\n10.0.0.2:bar\n')
      expect(await second).toEqual({ done: false, value: [{ line: 3, address: '10.0.0.2', command: 'bar' }] })
    } finally {
      closeSync(writer)
    }
    expect(await reader.next()).toEqual({ done: true, value: undefined })
  })

  it('ends at once when its signal aborts, while no writer has come', async () => {
    const path = join(dir, 'idle.fifo')
    execFileSync('mkfifo', [path])
    const controller = new AbortController()
    const reader = readCommands(path, { signal: controller.signal })[Symbol.asyncIterator]()
    const next = reader.next()
    controller.abort()
    const started = Date.now()
    expect(await next).toEqual({ done: true, value: undefined })
    expect(Date.now() - started).toBeLessThan(1000)
  })
})

describe('an input file that cannot be read', () => {
  const readers = [
    { reader: 'readCommands', read: (path: string) => allCommands(path) },
    { reader: 'loadDeviceMap', read: (path: string) => loadMap(path) },
  ]

  it.each(readers)('$reader rejects a missing file with ERR_INPUT_UNREADABLE naming the path', async ({ read }) => {
    const path = join(dir, 'does-not-exist.txt')
    const p = read(path)
    await expect(p).rejects.toBeInstanceOf(InputError)
    await expect(p).rejects.toMatchObject({ code: 'ERR_INPUT_UNREADABLE', path, message: expect.stringContaining(path) })
  })

  it.each(readers)('$reader rejects a directory with ERR_INPUT_UNREADABLE naming the path', async ({ read }) => {
    await expect(read(dir)).rejects.toMatchObject({ code: 'ERR_INPUT_UNREADABLE', path: dir, message: expect.stringContaining(dir) })
  })

  it.each(readers)('$reader rejects a file with a NUL byte near the start as binary', async ({ read }) => {
    const path = await fixture('binary.dat', Buffer.concat([Buffer.from('10.0.0.1:foo:1:1\n\x7fELF'), Buffer.alloc(16), Buffer.from('\n')]))
    await expect(read(path)).rejects.toMatchObject({
      code: 'ERR_INPUT_UNREADABLE',
      path,
      message: expect.stringMatching(/binary/),
    })
    await expect(read(path)).rejects.toMatchObject({ message: expect.stringContaining(path) })
  })

  it.each(readers)('$reader rejects a NUL byte at offset 8191 as binary', async ({ read }) => {
    const content = Buffer.from(`${'a'.repeat(8191)}\0\n`)
    const path = await fixture('late-binary.dat', content)
    await expect(read(path)).rejects.toMatchObject({ code: 'ERR_INPUT_UNREADABLE', path })
  })

  it('rejects a UTF-16 file (NUL bytes between the letters) as binary', async () => {
    const path = await fixture('utf16.txt', Buffer.from('\ufeff10.0.0.1:foo\n', 'utf16le'))
    await expect(allCommands(path)).rejects.toMatchObject({ code: 'ERR_INPUT_UNREADABLE', path })
  })
})

describe('loadDeviceMap on a map file', () => {
  it('loads every entry with its response, wait in ms and line', async () => {
    const path = await fixture(
      'map.txt',
      ['# address:command:response:wait', '10.0.0.1:foo:1:1', '', '2001:db8::1:bar:-3:0.25', '[::1]:baz:7:0', 'router.example:qux:0:86400'].join(
        '\n',
      ),
    )
    const { map, bad, duplicates } = await loadMap(path)
    expect(bad).toEqual([])
    expect(duplicates).toEqual([])
    expect(map.size).toBe(4)
    expect(map.get('10.0.0.1', 'foo')).toEqual({ response: 1, waitMs: 1000, line: 2 })
    expect(map.get('2001:db8::1', 'bar')).toEqual({ response: -3, waitMs: 250, line: 4 })
    expect(map.get('::1', 'baz')).toEqual({ response: 7, waitMs: 0, line: 5 })
    expect(map.get('router.example', 'qux')).toEqual({ response: 0, waitMs: 86_400_000, line: 6 })
    expect(map.get('10.0.0.1', 'bar')).toBeUndefined()
    expect(map.get('10.0.0.9', 'foo')).toBeUndefined()
  })

  it('accepts CRLF endings', async () => {
    const { map } = await loadMap(await fixture('crlf-map.txt', '10.0.0.1:foo:1:1\r\n10.0.0.2:foo:2:1\r\n'))
    expect(map.get('10.0.0.2', 'foo')).toEqual({ response: 2, waitMs: 1000, line: 2 })
  })

  it('matches host names regardless of case', async () => {
    const { map } = await loadMap(await fixture('case.txt', 'Router.Example:foo:5:0\n'))
    expect(map.get('router.example', 'foo')?.response).toBe(5)
    expect(map.get('ROUTER.EXAMPLE', 'foo')?.response).toBe(5)
  })

  it('lets the last of two duplicate entries win and reports both line numbers', async () => {
    const path = await fixture('dups.txt', ['10.0.0.1:foo:1:1', '10.0.0.2:foo:2:1', '10.0.0.1:foo:3:0'].join('\n'))
    const { map, duplicates } = await loadMap(path)
    expect(map.size).toBe(2)
    expect(map.get('10.0.0.1', 'foo')).toEqual({ response: 3, waitMs: 0, line: 3 })
    expect(duplicates).toEqual([{ path, line: 3, firstLine: 1, reason: expect.stringContaining('10.0.0.1:foo') }])
  })

  it('skips bad lines, reports each with the path and its line number, and loads the rest', async () => {
    const path = await fixture(
      'some-bad.txt',
      ['10.0.0.1:foo:1:1', '137.72.95.300:foo:1:1', '10.0.0.2:foo:x:1', '10.0.0.3:foo:1:-1', '10.0.0.4:foo:1:1'].join('\n'),
    )
    const { map, bad } = await loadMap(path)
    expect(map.size).toBe(2)
    expect(bad).toEqual([
      { path, line: 2, reason: expect.stringContaining('not a valid IPv4 address') },
      { path, line: 3, reason: expect.stringContaining('is not an integer') },
      { path, line: 4, reason: expect.stringContaining('is not a number of seconds') },
    ])
  })

  it('reports a line over 64 KiB and loads the lines after it', async () => {
    const path = await fixture('long-map.txt', ['10.0.0.1:foo:1:1', `h:${'c'.repeat(70_000)}:1:1`, '10.0.0.2:foo:1:1'].join('\n'))
    const { map, bad } = await loadMap(path)
    expect(bad).toEqual([{ path, line: 2, reason: 'line is longer than 65536 bytes' }])
    expect(map.get('10.0.0.2', 'foo')?.line).toBe(3)
  })

  it('refuses a bad line in strict mode with ERR_INPUT_BAD_LINES', async () => {
    const path = await fixture('strict.txt', '10.0.0.1:foo:1:1\n10.0.0.2:foo:1:forever\n')
    await expect(loadMap(path, true)).rejects.toMatchObject({ code: 'ERR_INPUT_BAD_LINES', path })
  })

  it('names the number of bad lines and the first of them in the strict error', async () => {
    const path = await fixture('strict-many.txt', `10.0.0.1:foo:1:1\n10.0.0.2:foo:1:forever\n${'10.0.0.300:foo:1:1\n'.repeat(5000)}`)
    await expect(loadDeviceMap(path, { strict: true })).rejects.toMatchObject({
      message: `${path}: 5001 bad line(s), first ${path}:2: wait "forever" is not a number of seconds from 0 to 86400; refusing to start (--strict)`,
    })
  })

  it('loads a clean file in strict mode', async () => {
    const { map } = await loadMap(await fixture('strict-ok.txt', '10.0.0.1:foo:1:1\n'), true)
    expect(map.size).toBe(1)
  })

  it.each([
    { what: 'an empty file', content: '' },
    { what: 'only comments and blank lines', content: '# nothing yet\n\n   \n' },
    { what: 'only bad lines', content: '10.0.0.1:foo\n10.0.0.1:foo:1:soon\n' },
  ])('refuses a map of $what with ERR_INPUT_EMPTY', async ({ content }) => {
    const path = await fixture('empty-map.txt', content)
    await expect(loadMap(path)).rejects.toMatchObject({ code: 'ERR_INPUT_EMPTY', path })
  })
})

describe('readLines on random multi-chunk files', () => {
  /** The meaning of a file, line by line, computed the slow obvious way. */
  function expectedLines(bytes: Buffer, maxLineBytes: number): Line[] {
    const out: Line[] = []
    let start = 0
    let number = 0
    while (start < bytes.length) {
      let nl = bytes.indexOf(0x0a, start)
      const last = nl === -1
      if (last) nl = bytes.length
      let line = bytes.subarray(start, nl)
      number++
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, -1)
      if (line.length > maxLineBytes) out.push({ number, error: `is longer than ${maxLineBytes} bytes` })
      else if (line.includes(0)) out.push({ number, error: 'contains a NUL byte (binary data)' })
      else if (!isUtf8(line)) out.push({ number, error: 'is not valid UTF-8' })
      else out.push({ number, text: line.toString('utf8') })
      start = nl + 1
    }
    return out
  }

  it('agrees with a line-by-line reading across chunk boundaries, CRLF, long lines, NUL and bad UTF-8', async () => {
    const random = seededRandom(20261125)
    const pieces = ['10.0.0.1:foo', 'é', '€', '\r', ':', ' ', 'x'.repeat(3000), '\u0000', '\xff']
    for (let file = 0; file < 12; file++) {
      const parts: Buffer[] = []
      // Clean text before any NUL, so the binary sniff of the first 8 KiB does not refuse the file.
      parts.push(Buffer.from('10.0.0.1:foo\n'.repeat(800)))
      let size = 0
      while (size < 300_000) {
        const piece = pieces[Math.floor(random() * pieces.length)]!
        const bytes = piece === '\xff' ? Buffer.from([0xff]) : Buffer.from(piece)
        const chunk = random() < 0.3 ? Buffer.concat([bytes, Buffer.from('\n')]) : bytes
        parts.push(chunk)
        size += chunk.length
      }
      const content = Buffer.concat(parts)
      const path = await fixture(`random-${file}.txt`, content)
      expect(await allLines(path, 4096)).toEqual(expectedLines(content, 4096))
    }
  })
})
