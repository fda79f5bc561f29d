/**
 * stderr's one line owner (src/util/status-line.ts), on fake time and a
 * terminal model: a log line never lands on the status line's row, the status
 * line comes back under the log, and draws are throttled.
 */
import { describe, expect, it } from 'vitest'
import { CLEAR_LINE, StatusLine } from '../../src/util/status-line.js'
import { TerminalModel } from '../helpers/terminal-model.js'

function setup(columns?: number): { line: StatusLine; terminal: TerminalModel; writes: string[]; clock: { now: number } } {
  const clock = { now: 0 }
  const terminal = new TerminalModel()
  const writes: string[] = []
  const line = new StatusLine(
    (chunk) => {
      writes.push(chunk)
      terminal.write(chunk)
    },
    { clock: () => clock.now, columns: () => columns },
  )
  return { line, terminal, writes, clock }
}

describe('a log line written while the status line is shown', () => {
  it('takes a row of its own, and the status line is drawn again below it, in one write', () => {
    const { line, terminal, writes, clock } = setup()
    line.update('10/512 commands (1 %) · 256 batches in flight')
    clock.now = 500
    line.log('[01:02:33.552] WARN (1): malformed message on results socket\n')
    expect(terminal.lines()).toEqual(['[01:02:33.552] WARN (1): malformed message on results socket', '10/512 commands (1 %) · 256 batches in flight'])
    expect(writes[1]).toBe(`${CLEAR_LINE}[01:02:33.552] WARN (1): malformed message on results socket\n10/512 commands (1 %) · 256 batches in flight`)
  })

  it('is given a line end when it has none, so the status line never shares its row', () => {
    const { line, terminal, clock } = setup()
    line.update('progress')
    clock.now = 500
    line.log('{"msg":"no newline"}')
    expect(terminal.lines()).toEqual(['{"msg":"no newline"}', 'progress'])
  })

  it('is written as it is when no status line is set', () => {
    const { line, writes } = setup()
    line.log('{"level":40}\n')
    expect(writes).toEqual(['{"level":40}\n'])
  })

  it('never mixes with the status text in a long interleaving of both', () => {
    const { line, terminal, clock } = setup()
    for (let i = 0; i < 300; i++) {
      clock.now += 37
      if (i % 3 === 0) line.log(`WARN line ${i}\n`)
      else line.update(`${i}/300 commands · 4 batches in flight`)
    }
    const rows = terminal.lines()
    for (const row of rows.slice(0, -1)) expect(row).toMatch(/^WARN line \d+$/)
    expect(rows.filter((row) => row.includes('WARN'))).toHaveLength(100)
    expect(rows.at(-1)).toMatch(/^\d+\/300 commands · 4 batches in flight$/)
  })
})

describe('throttling', () => {
  it('draws at most 10 times a second however often the text changes', () => {
    const { line, writes, clock } = setup()
    for (let t = 0; t < 1000; t += 5) {
      clock.now = t
      line.update(`${t} commands`)
    }
    expect(writes).toHaveLength(10)
  })

  it('redraws once for a burst of log lines; the next update draws what was skipped', () => {
    const { line, terminal, writes, clock } = setup()
    line.update('status')
    clock.now = 200
    for (let i = 0; i < 50; i++) line.log(`log ${i}\n`)
    expect(writes.filter((w) => w.endsWith('status'))).toHaveLength(2)
    // Drawn after the first log of the burst, erased by the second: none of the 50 rows holds it.
    expect(terminal.lines().slice(0, 50).every((row) => /^log \d+$/.test(row))).toBe(true)
    expect(terminal.lines().at(-1)).toBe('')
    clock.now = 300
    line.update('status')
    expect(terminal.lines().at(-1)).toBe('status')
  })

  it('does not redraw text that is already on the screen', () => {
    const { line, writes, clock } = setup()
    line.update('same')
    clock.now = 1000
    line.update('same')
    expect(writes).toHaveLength(1)
  })
})

describe('the width of the terminal', () => {
  it('cuts a status line to one column less than the terminal, so it never wraps', () => {
    const { line, terminal } = setup(20)
    line.update('0123456789012345678901234567890')
    expect(terminal.lines()).toEqual(['012345678901234567…'])
    expect(terminal.lines()[0]).toHaveLength(19)
  })

  it('keeps a status line that fits, and cuts nothing off a log line', () => {
    const { line, terminal, clock } = setup(20)
    line.update('short')
    clock.now = 500
    line.log(`${'x'.repeat(30)}\n`)
    expect(terminal.lines()).toEqual(['x'.repeat(30), 'short'])
  })
})

describe('clear()', () => {
  it('erases the status line and leaves the cursor on an empty row; later logs are written as they are', () => {
    const { line, terminal, writes } = setup()
    line.update('progress')
    line.clear()
    expect(terminal.lines()).toEqual([''])
    line.log('after\n')
    expect(writes.at(-1)).toBe('after\n')
    expect(line.active).toBe(false)
  })
})
