import { describe, expect, it } from 'vitest'
import { terminalSafe, terminalSafeJson, terminalSafeValue } from '../../src/util/terminal-text.js'
import { formatStatus, type GatewayStatus } from '../../src/gateway/status.js'
import { formatSummary, type RunSummary } from '../../src/client/summary.js'
import { formatBadLine } from '../../src/data/bad-lines.js'

/** Anything a terminal would act on or hide: controls, bidi and invisible format characters. */
const RAW_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/

describe('terminalSafe', () => {
  it.each([
    { what: 'ESC (a colour sequence)', input: 'a\x1b[31mred', output: 'a\\x1b[31mred' },
    { what: 'an OSC title sequence ending in BEL', input: '\x1b]0;owned\x07', output: '\\x1b]0;owned\\x07' },
    { what: 'NUL, TAB, LF and CR', input: '\0\t\n\r', output: '\\x00\\x09\\x0a\\x0d' },
    { what: 'DEL', input: 'x\x7f', output: 'x\\x7f' },
    { what: 'C1 controls (CSI as U+009B)', input: '\u0080\u009b2J\u009f', output: '\\x80\\x9b2J\\x9f' },
    { what: 'a right-to-left override', input: 'abc\u202efdp.exe', output: 'abc\\u202efdp.exe' },
    { what: 'bidi isolates', input: '\u2066x\u2069', output: '\\u2066x\\u2069' },
    { what: 'zero-width space, joiner and marks', input: 'a\u200bb\u200dc\u200e\u200f', output: 'a\\u200bb\\u200dc\\u200e\\u200f' },
    { what: 'the BOM and the line separator', input: '\ufeffa\u2028b', output: '\\ufeffa\\u2028b' },
    { what: 'an invisible tag character', input: 'id\u{e0041}', output: 'id\\u{e0041}' },
    { what: 'a lone surrogate', input: 'x\ud800y', output: 'x\\ud800y' },
    { what: 'a backslash, so escapes cannot be forged', input: 'a\\x1b', output: 'a\\\\x1b' },
  ])('escapes $what', ({ input, output }) => {
    expect(terminalSafe(input)).toBe(output)
    expect(terminalSafe(input)).not.toMatch(RAW_UNSAFE)
  })

  it('keeps printable text as it is, non-ASCII letters and emoji included', () => {
    for (const text of ['worker-7@host', 'tcp://127.0.0.1:5557', 'Grüße, 東京', 'ok 👍', '']) expect(terminalSafe(text)).toBe(text)
  })

  it('leaves backslashes alone when asked, for messages that hold JSON-escaped text', () => {
    expect(terminalSafe('got "a\\u001b" \x1b', { escapeBackslash: false })).toBe('got "a\\u001b" \\x1b')
  })

  it('cuts long text and says how much was cut', () => {
    expect(terminalSafe('a'.repeat(500), { maxLength: 100 })).toBe(`${'a'.repeat(100)}…(+400 chars)`)
    expect(terminalSafe('abc', { maxLength: 3 })).toBe('abc')
    // A surrogate pair is never split.
    expect(terminalSafe('ab👍cd', { maxLength: 3 })).toBe('ab…(+4 chars)')
  })

  it('leaves raw no code point from U+0000 to U+FFFF that a terminal acts on or hides', () => {
    const raw: string[] = []
    for (let code = 0; code <= 0xffff; code++) {
      const char = String.fromCharCode(code)
      const out = terminalSafe(char)
      if (RAW_UNSAFE.test(out) || (RAW_UNSAFE.test(char) && !/^\\(x[0-9a-f]{2}|u[0-9a-f]{4})$/.test(out))) raw.push(code.toString(16))
    }
    expect(raw).toEqual([])
  })
})

describe('terminalSafeValue', () => {
  it('prints numbers as they are and anything else as bounded, escaped text', () => {
    expect(terminalSafeValue(42)).toBe('42')
    expect(terminalSafeValue('\x1b')).toBe('\\x1b')
    expect(terminalSafeValue({ a: '\u202e' })).toBe('{"a":"\\u202e"}')
    expect(terminalSafeValue('x'.repeat(1000), 10)).toBe(`${'x'.repeat(10)}…(+990 chars)`)
  })
})

function hostileStatus(): GatewayStatus {
  return {
    uptimeMs: 1500,
    endpoint: 'tcp://127.0.0.1:5557\x1b]0;owned\x07',
    workersEndpoint: 'ipc:///tmp/w\u009b2J.sock',
    queue: {
      batches: 3,
      bytes: 2048,
      heldBytes: 512,
      clients: [
        { client: 'evil\x1b[2J\x1b[H', batches: 2 },
        { client: 'admin\u202enimda', batches: 1 },
      ],
      clientCount: 2,
    },
    workers: [
      { id: 'w\x1b[31m1', kind: 'remote', capacity: 4, inFlight: 1, lastHeardMs: 100, served: 7 },
      // A hostile gateway may send any type in any field.
      { id: 'w2', kind: 'forked\u0007' as 'forked', pid: '12\x1b' as unknown as number, capacity: 4, inFlight: 0, lastHeardMs: 5, served: 0 },
    ],
    pool: { forked: 1, starting: 0, retiring: 0, min: 1, max: 2 },
    counters: {
      received: 3,
      malformed: 0,
      duplicates: 0,
      speculative: 0,
      dispatched: 1,
      completed: 0,
      requeued: 0,
      aborted: 0,
      cancelsSent: 0,
      rejected: { 'too-large\x1b[1m': 2 },
      undelivered: 0,
      workersSpawned: 1,
      workersLost: 0,
      workersRefused: 0,
    },
  }
}

describe('formatStatus on a status whose strings hold escape sequences', () => {
  it('prints no raw control or bidi character, and shows each as a visible escape', () => {
    const text = formatStatus(hostileStatus())
    for (const line of text.split('\n')) expect(line).not.toMatch(RAW_UNSAFE)
    expect(text).toContain('gateway   tcp://127.0.0.1:5557\\x1b]0;owned\\x07 · workers port ipc:///tmp/w\\x9b2J.sock')
    expect(text).toContain('  evil\\x1b[2J\\x1b[H  2 batches')
    expect(text).toContain('  admin\\u202enimda  1 batches')
    expect(text).toMatch(/^ {2}w\\x1b\[31m1 +remote/m)
    expect(text).toMatch(/^ {2}w2 +forked\\x07 +12\\x1b /m)
    expect(text).toContain('rejected 2 too-large\\x1b[1m')
  })

  it('bounds a long id', () => {
    const status = hostileStatus()
    const text = formatStatus({ ...status, queue: { ...status.queue, clients: [{ client: 'c'.repeat(100_000), batches: 1 }] } })
    expect(text.split('\n').every((line) => line.length < 400)).toBe(true)
    expect(text).toContain('…(+99800 chars)')
  })

  it('prints a well-formed status unchanged', () => {
    const status = hostileStatus()
    const clean: GatewayStatus = {
      ...status,
      endpoint: 'tcp://127.0.0.1:5557',
      workersEndpoint: 'ipc:///tmp/w.sock',
      queue: { ...status.queue, clients: [{ client: 'c81eea28', batches: 3 }] },
      workers: [{ id: 'host-1-ab', kind: 'forked', pid: 123, capacity: 64, inFlight: 0, lastHeardMs: 250, served: 9 }],
      counters: { ...status.counters, rejected: {} },
    }
    expect(formatStatus(clean)).toBe(
      [
        'gateway   tcp://127.0.0.1:5557 · workers port ipc:///tmp/w.sock · up 1.5 s',
        'queue     3 batches (2.0 KiB) from 2 clients · 0.5 KiB held by workers',
        '  c81eea28  3 batches',
        'workers   1 connected (1 forked, 0 remote) · pool 1 forked, 0 starting, 0 retiring, min 1, max 2',
        '  id         kind    pid  capacity  in flight  served  last heard',
        '  host-1-ab  forked  123  64        0          9       0.3 s ago',
        'counters  received 3 · dispatched 1 · done 0 · requeued 0 · duplicates 0 · second runs 0 · aborted 0 · cancels sent 0 · malformed 0',
        '          rejected 0 (0 undelivered) · workers forked 1, lost 0, refused 0',
      ].join('\n'),
    )
  })
})

describe('the other human-format output', () => {
  it('formatSummary escapes rejection reasons and the send error', () => {
    const summary: RunSummary = {
      client: 'c',
      commands: 2,
      sent: 1,
      counts: { ok: 0, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 2 },
      states: { ok: 0, warning: 0, critical: 0, unknown: 0 },
      batches: 2,
      batchSize: 1,
      lostBatches: { unsent: 1, rejected: { 'odd\x1b[2J': 1 }, noResult: 0, interrupted: 0 },
      total: 0,
      elapsedMs: 10,
      badLines: 0,
      resends: 0,
      duplicates: 0,
      interrupted: false,
      sendError: 'tcp://h:1 refused \u202eevil',
      failedOn: ['lost'],
      exitCode: 1,
    }
    const text = formatSummary(summary)
    for (const line of text.split('\n')) expect(line).not.toMatch(RAW_UNSAFE)
    expect(text).toContain('1 rejected odd\\x1b[2J')
    expect(text).toContain('error     tcp://h:1 refused \\u202eevil')
  })

  it('formatBadLine escapes what JSON.stringify leaves raw (DEL, C1, bidi) in the quoted line', () => {
    const line = formatBadLine({ path: 'c.txt', line: 3, reason: `command ${JSON.stringify('a\u202eb\u009b\x7f\x1b')} is not a token` })
    expect(line).toBe('c.txt:3: command "a\\u202eb\\x9b\\x7f\\u001b" is not a token')
  })
})

describe('terminalSafeJson (gateway-status --json, run-client --json and --output)', () => {
  it('writes C1 controls, bidi and invisible characters and line separators as \\u escapes, and stays the same JSON', () => {
    const value = { client: 'a\u009b2Jb', worker: 'w\u202eevil\u200b', note: 'x\u2028y', plain: 'é ok <>' }
    const json = terminalSafeJson(value)
    expect(json).toBe('{"client":"a\\u009b2Jb","worker":"w\\u202eevil\\u200b","note":"x\\u2028y","plain":"é ok <>"}')
    expect(JSON.parse(json)).toEqual(value)
    // Twice in a row: a global pattern must not carry state from one call to the next.
    expect(terminalSafeJson(value)).toBe(json)
  })

  it('leaves ordinary JSON as JSON.stringify writes it (its own escapes for C0 controls)', () => {
    const value = { a: 'line\nbreak\x1b[2J', n: 1.5, list: [1, 'two'] }
    expect(terminalSafeJson(value)).toBe(JSON.stringify(value))
  })
})
