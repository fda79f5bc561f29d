/**
 * A plugin's output as the Nagios plugin API reads it (checks.md): the first
 * line of stdout, at most 1 KiB, however the bytes arrive, with performance
 * data after `|` split off.
 */
import { describe, expect, it } from 'vitest'
import { FIRST_LINE_MAX_BYTES, FirstLine, splitPerfdata } from '../../src/executors/checks/plugin-output.js'

function lineOf(...chunks: (string | Buffer)[]): FirstLine {
  const line = new FirstLine()
  for (const chunk of chunks) line.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return line
}

describe('FirstLine', () => {
  it.each([
    { chunks: ['OK - fine\nsecond line\n'], text: 'OK - fine', done: true },
    { chunks: ['OK - ', 'fi', 'ne\nmore'], text: 'OK - fine', done: true },
    { chunks: ['no newline yet'], text: 'no newline yet', done: false },
    { chunks: ['windows line\r\n'], text: 'windows line', done: true },
    { chunks: ['\nsecond'], text: '', done: true },
    { chunks: [], text: '', done: false },
  ])('reads $chunks as $text (done: $done)', ({ chunks, text, done }) => {
    const line = lineOf(...chunks)
    expect(line.text()).toBe(text)
    expect(line.done).toBe(done)
  })

  it('keeps 1 KiB of a longer line and ignores everything after it', () => {
    const line = lineOf('x'.repeat(1000), 'y'.repeat(1000), '\nlater')
    expect(FIRST_LINE_MAX_BYTES).toBe(1024)
    expect(line.done).toBe(true)
    expect(line.text()).toBe('x'.repeat(1000) + 'y'.repeat(24))
    line.push(Buffer.from('z'.repeat(100_000)))
    expect(line.text()).toHaveLength(1024)
  })

  it('is done at exactly 1 KiB even with no newline', () => {
    expect(lineOf('a'.repeat(1023)).done).toBe(false)
    expect(lineOf('a'.repeat(1024)).done).toBe(true)
  })

  it('drops a multi-byte character cut by the limit instead of showing U+FFFD', () => {
    // 1023 ASCII bytes then 'é' (2 bytes): only its first byte fits.
    const line = lineOf('a'.repeat(1023) + 'é')
    expect(line.text()).toBe('a'.repeat(1023))
    // 1022 + 'é' fits exactly.
    expect(lineOf('a'.repeat(1022) + 'é').text()).toBe('a'.repeat(1022) + 'é')
    // A 4-byte character cut after 3 of its bytes.
    expect(lineOf('a'.repeat(1021) + '😀').text()).toBe('a'.repeat(1021))
  })

  it('shows bytes that are not UTF-8 as U+FFFD rather than failing', () => {
    expect(lineOf(Buffer.from([0x4f, 0x4b, 0xff, 0x0a])).text()).toBe('OK\uFFFD')
  })
})

describe('splitPerfdata', () => {
  it.each([
    { line: 'PING OK - RTA = 0.80 ms | rta=0.80ms;100;500;0 pl=0%;20;60;0', output: 'PING OK - RTA = 0.80 ms', perfdata: 'rta=0.80ms;100;500;0 pl=0%;20;60;0' },
    { line: '  DISK OK  ', output: 'DISK OK', perfdata: undefined },
    { line: 'OK |   ', output: 'OK', perfdata: undefined },
    { line: 'OK|a=1|b=2', output: 'OK', perfdata: 'a=1|b=2' },
    { line: '| a=1', output: '', perfdata: 'a=1' },
    { line: '', output: '', perfdata: undefined },
  ])('splits $line', ({ line, output, perfdata }) => {
    const split = splitPerfdata(line)
    expect(split.output).toBe(output)
    if (perfdata === undefined) expect(split).not.toHaveProperty('perfdata')
    else expect(split.perfdata).toBe(perfdata)
  })
})
