import { describe, expect, it } from 'vitest'
import { Batcher, type Batch } from '../../src/client/batcher.js'
import { parseOutcomes } from '../../src/client/results.js'
import { formatSummary, type RunSummary } from '../../src/client/summary.js'
import { decodeTrusted, encode } from '../../src/protocol/codec.js'
import { outcomesBody } from '../../src/protocol/frames.js'
import { scanCommandPairs } from '../../src/protocol/msgpack-scan.js'
import type { CommandOutcome } from '../../src/protocol/types.js'
import { BitSet } from '../../src/util/bitset.js'
import { Deque } from '../../src/util/deque.js'
import { DispatchQueue, type QueuedBatch } from '../../src/gateway/dispatch-queue.js'
import type { CommandLine } from '../../src/data/commands-file.js'

const MAX_BYTES = 16 * 1024 * 1024

/** Command n of a made-up file: on line 2n (so lines and indices differ), address 10.0.0.n. */
function command(n: number): CommandLine {
  return { line: 2 * n, address: `10.0.0.${n}`, command: `cmd${n}` }
}

/** Feeds commands 1..count to `batcher` and returns every batch it completed, then the flushed rest. */
function batchAll(batcher: Batcher, count: number): Batch[] {
  const batches: Batch[] = []
  for (let n = 1; n <= count; n++) {
    const batch = batcher.add(command(n))
    if (batch !== undefined) batches.push(batch)
  }
  const rest = batcher.flush()
  if (rest !== undefined) batches.push(rest)
  return batches
}

describe('a Batcher of size 3', () => {
  it('completes a batch on every third command and nothing in between', () => {
    const batcher = new Batcher(3)
    const completed = [1, 2, 3, 4, 5, 6].map((n) => batcher.add(command(n)) !== undefined)
    expect(completed).toEqual([false, false, true, false, false, true])
  })

  it('hands out the partial last batch on flush', () => {
    const batches = batchAll(new Batcher(3), 7)
    expect(batches.map((b) => b.size)).toEqual([3, 3, 1])
  })

  it('numbers batches 1, 2, 3 with ids "1", "2", "3"', () => {
    const batches = batchAll(new Batcher(3), 7)
    expect(batches.map((b) => [b.seq, b.id])).toEqual([
      [1, '1'],
      [2, '2'],
      [3, '3'],
    ])
  })

  it('keeps each command with its file line, in order', () => {
    const [first, , last] = batchAll(new Batcher(3), 7)
    expect(first?.commands).toEqual([command(1), command(2), command(3)])
    expect(last?.commands).toEqual([command(7)])
  })

  it('keeps no details when told not to, and encodes the same body', () => {
    const lean = batchAll(new Batcher(3, false), 7)
    const full = batchAll(new Batcher(3), 7)
    expect(lean.map((b) => b.commands)).toEqual([undefined, undefined, undefined])
    expect(lean.map((b) => b.size)).toEqual([3, 3, 1])
    expect(lean.map((b) => b.body)).toEqual(full.map((b) => b.body))
  })

  it('encodes a body that decodes to exactly the pairs and passes the gateway scan', () => {
    for (const batch of batchAll(new Batcher(3), 7)) {
      expect(decodeTrusted(batch.body)).toEqual(batch.commands?.map((c) => [c.address, c.command]))
      expect(scanCommandPairs(batch.body, 3)).toBe(batch.size)
    }
  })

  it('does not change a handed-out batch when more commands arrive', () => {
    const batcher = new Batcher(2)
    batcher.add(command(1))
    const batch = batcher.add(command(2))
    batcher.add(command(3))
    expect(batch?.size).toBe(2)
    expect(batch?.commands?.map((c) => c.line)).toEqual([2, 4])
  })

  it('returns nothing on flush when no command is pending, and does not count a batch', () => {
    const batcher = new Batcher(3)
    expect(batcher.flush()).toBeUndefined()
    batchAll(batcher, 3)
    expect(batcher.flush()).toBeUndefined()
    expect(batcher.count).toBe(1)
  })

  it('counts the batches produced so far', () => {
    const batcher = new Batcher(3)
    batchAll(batcher, 7)
    expect(batcher.count).toBe(3)
  })
})

describe('a Batcher of size 16 fed 512 commands', () => {
  it('makes 32 full batches and nothing on flush', () => {
    const batcher = new Batcher(16)
    const full: Batch[] = []
    for (let n = 1; n <= 512; n++) {
      const batch = batcher.add(command(n))
      if (batch !== undefined) full.push(batch)
    }
    expect(batcher.flush()).toBeUndefined()
    expect(full).toHaveLength(32)
    expect(full.every((b) => b.size === 16)).toBe(true)
    expect(full.at(-1)?.id).toBe('32')
  })
})

describe('parseOutcomes on a valid result body', () => {
  it('returns the outcomes of every code', () => {
    const outcomes: CommandOutcome[] = [
      [0, 1],
      [1, null],
      [2, 'device refused'],
      [3, null],
      [4, null],
      [0, 'text response'],
      [0, { structured: [1, 2] }],
      [0, null],
    ]
    expect(parseOutcomes(outcomesBody(outcomes), outcomes.length, MAX_BYTES)).toEqual(outcomes)
  })

  it('keeps a check value of code 0 as it came', () => {
    const outcomes: CommandOutcome[] = [[0, { state: 1, output: 'load 9.1', perfdata: 'load=9.1;5;10', ms: 12.5 }]]
    expect(parseOutcomes(outcomesBody(outcomes), 1, MAX_BYTES)).toEqual(outcomes)
  })

  // CGP/1: "A client MUST count a code it does not know as failed": a later protocol's code is not a broken body.
  it.each([
    { what: 'code 5 with nil', entry: [5, null] },
    { what: 'code 6 with a string', entry: [6, 'new reason'] },
    { what: 'code 200 with a map', entry: [200, { why: 'x' }] },
    { what: 'code 4294967295 with a number', entry: [4294967295, 7] },
  ])('keeps $what, alongside the known codes of the same body', ({ entry }) => {
    const body = encode([[0, 1], entry, [2, 'x']])
    expect(parseOutcomes(body, 3, MAX_BYTES)).toEqual([[0, 1], entry, [2, 'x']])
  })
})

describe('parseOutcomes on an unusable result body', () => {
  it.each([
    { what: 'no body frame', body: undefined, expected: 1 },
    { what: 'one outcome too few', body: outcomesBody([[0, 1]]), expected: 2 },
    { what: 'one outcome too many', body: outcomesBody([[0, 1], [0, 1]]), expected: 1 },
    { what: 'an empty array for one command', body: encode([]), expected: 1 },
    { what: 'a map', body: encode({ 0: [0, 1] }), expected: 1 },
    { what: 'a string', body: encode('ok'), expected: 1 },
    { what: 'nil', body: encode(null), expected: 1 },
    { what: 'an outcome that is not an array', body: encode([0]), expected: 1 },
    { what: 'an outcome of one element', body: encode([[0]]), expected: 1 },
    { what: 'an outcome of three elements', body: encode([[0, 1, 2]]), expected: 1 },
    { what: 'code 4 with a value', body: encode([[4, 'cancelled']]), expected: 1 },
    { what: 'code 4 with false', body: encode([[4, false]]), expected: 1 },
    { what: 'code -1', body: encode([[-1, null]]), expected: 1 },
    { what: 'code "0"', body: encode([['0', 1]]), expected: 1 },
    { what: 'code 0.5', body: encode([[0.5, 1]]), expected: 1 },
    { what: 'code 5.5', body: encode([[5.5, null]]), expected: 1 },
    { what: 'code -7', body: encode([[-7, null]]), expected: 1 },
    { what: 'code true', body: encode([[true, null]]), expected: 1 },
    { what: 'code nil', body: encode([[null, null]]), expected: 1 },
    { what: 'code 1 with a value', body: encode([[1, 0]]), expected: 1 },
    { what: 'code 1 with a string', body: encode([[1, 'unknown']]), expected: 1 },
    { what: 'code 3 with a value', body: encode([[3, false]]), expected: 1 },
    { what: 'code 2 with nil', body: encode([[2, null]]), expected: 1 },
    { what: 'code 2 with a number', body: encode([[2, 500]]), expected: 1 },
    { what: 'a bad second outcome', body: encode([[0, 1], [2, 7]]), expected: 2 },
    { what: 'truncated bytes', body: outcomesBody([[0, 1], [0, 2]]).subarray(0, 4), expected: 2 },
    { what: 'an extension type value', body: Buffer.from([0x91, 0x92, 0x00, 0xd6, 0xff, 0, 0, 0, 1]), expected: 1 },
  ])('returns a reason for $what', ({ body, expected }) => {
    expect(parseOutcomes(body, expected, MAX_BYTES)).toEqual(expect.any(String))
  })

  it('returns a reason for a body over maxBytes', () => {
    const body = outcomesBody([[2, 'x'.repeat(200)]])
    expect(parseOutcomes(body, 1, 100)).toEqual(expect.stringContaining('exceeds 100'))
  })

  it('names the counts when the length is wrong', () => {
    expect(parseOutcomes(outcomesBody([[0, 1]]), 2, MAX_BYTES)).toBe('result has 1 outcomes for 2 commands')
  })
})

describe('a BitSet', () => {
  it('starts empty', () => {
    const set = new BitSet()
    expect([0, 1, 7, 8, 8191, 8192, 1_000_000].some((n) => set.has(n))).toBe(false)
  })

  it.each([{ n: 0 }, { n: 7 }, { n: 8 }, { n: 8191 }, { n: 8192 }, { n: 123_457 }])(
    'holds $n after adding it, without its neighbours',
    ({ n }) => {
      const set = new BitSet()
      set.add(n)
      expect(set.has(n)).toBe(true)
      expect(set.has(n + 1)).toBe(false)
      if (n > 0) expect(set.has(n - 1)).toBe(false)
    },
  )

  it('keeps earlier members when it grows', () => {
    const set = new BitSet()
    const members = [1, 9, 8000, 8191]
    for (const n of members) set.add(n)
    set.add(5_000_000)
    expect([...members, 5_000_000].every((n) => set.has(n))).toBe(true)
    expect(set.has(4_999_999)).toBe(false)
  })

  it('is unchanged by adding a member twice', () => {
    const set = new BitSet()
    set.add(42)
    set.add(42)
    expect(set.has(42)).toBe(true)
    expect(set.has(43)).toBe(false)
  })
})

describe('a Deque', () => {
  it('shifts in push order across growth', () => {
    const deque = new Deque<number>()
    for (let i = 0; i < 100; i++) deque.push(i)
    const out: (number | undefined)[] = []
    while (deque.length > 0) out.push(deque.shift())
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => i))
  })

  it('puts unshifted items in front, latest first', () => {
    const deque = new Deque<string>()
    deque.push('b')
    deque.push('c')
    deque.unshift('a')
    deque.unshift('z')
    expect([...deque]).toEqual(['z', 'a', 'b', 'c'])
  })

  it('keeps order when it grows while wrapped around', () => {
    const deque = new Deque<number>(16)
    for (let i = 0; i < 16; i++) deque.push(i)
    for (let i = 0; i < 12; i++) deque.shift()
    for (let i = 16; i < 40; i++) deque.push(i) // wraps, then grows
    deque.unshift(11)
    expect([...deque]).toEqual(Array.from({ length: 29 }, (_, i) => i + 11))
  })

  it('keeps order when unshift makes it grow', () => {
    const deque = new Deque<number>()
    for (let i = 0; i < 40; i++) deque.unshift(i)
    expect([...deque]).toEqual(Array.from({ length: 40 }, (_, i) => 39 - i))
  })

  it('returns undefined from shift and peek when empty', () => {
    const deque = new Deque<number>()
    deque.push(1)
    deque.shift()
    expect(deque.shift()).toBeUndefined()
    expect(deque.peek()).toBeUndefined()
    expect(deque.length).toBe(0)
  })

  it('peeks at the front without removing it', () => {
    const deque = new Deque<number>()
    deque.push(1)
    deque.push(2)
    expect(deque.peek()).toBe(1)
    expect(deque.length).toBe(2)
  })

  it('removeWhere returns the removed items in order and keeps the rest in order', () => {
    const deque = new Deque<number>()
    for (let i = 0; i < 10; i++) deque.push(i)
    deque.shift()
    deque.unshift(100)
    expect(deque.removeWhere((n) => n % 3 === 0)).toEqual([3, 6, 9])
    expect([...deque]).toEqual([100, 1, 2, 4, 5, 7, 8])
    expect(deque.length).toBe(7)
  })

  it('removeWhere with no match removes nothing', () => {
    const deque = new Deque<number>()
    deque.push(1)
    deque.push(2)
    expect(deque.removeWhere(() => false)).toEqual([])
    expect([...deque]).toEqual([1, 2])
  })

  it('drain returns everything in order and leaves it empty and usable', () => {
    const deque = new Deque<number>()
    deque.push(2)
    deque.unshift(1)
    expect(deque.drain()).toEqual([1, 2])
    expect(deque.length).toBe(0)
    deque.push(3)
    expect(deque.shift()).toBe(3)
  })

  it('behaves like an array under 5000 seeded random operations', () => {
    let state = 7
    const random = (below: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0
      return (state >>> 8) % below
    }
    const deque = new Deque<number>(4)
    const model: number[] = []
    for (let step = 0; step < 5000; step++) {
      const op = random(10)
      if (op < 4) {
        deque.push(step)
        model.push(step)
      } else if (op < 6) {
        deque.unshift(step)
        model.unshift(step)
      } else if (op < 9) {
        expect(deque.shift(), `step ${step}`).toBe(model.shift())
      } else {
        const removed = deque.removeWhere((n) => n % 7 === 0)
        expect(removed, `step ${step}`).toEqual(model.filter((n) => n % 7 === 0))
        model.splice(0, model.length, ...model.filter((n) => n % 7 !== 0))
      }
      expect(deque.length).toBe(model.length)
    }
    expect([...deque]).toEqual(model)
  })
})

function summary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    client: 'client-a',
    commands: 512,
    counts: { ok: 512, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 },
    states: { ok: 0, warning: 0, critical: 0, unknown: 0 },
    batches: 32,
    batchSize: 16,
    lostBatches: { unsent: 0, rejected: {}, noResult: 0, interrupted: 0 },
    total: 512,
    elapsedMs: 1004,
    badLines: 0,
    resends: 0,
    duplicates: 0,
    interrupted: false,
    failedOn: [],
    exitCode: 0,
    ...overrides,
    // Every command read was sent unless a test says otherwise.
    sent: overrides.sent ?? overrides.commands ?? 512,
  }
}

describe('formatSummary for a clean run', () => {
  it('prints exactly the four lines of design.md', () => {
    expect(formatSummary(summary())).toBe(
      [
        'commands  512 sent · 512 ok · 0 unknown · 0 failed · 0 timeout · 0 cancelled · 0 lost',
        'batches   32 × 16',
        'total     512',
        'elapsed   1.004 s  (510 commands/s)',
      ].join('\n'),
    )
  })

  it('reports a rate of 0 rather than Infinity when no time elapsed', () => {
    const lines = formatSummary(summary({ elapsedMs: 0 })).split('\n')
    expect(lines[3]).toBe('elapsed   0.000 s  (0 commands/s)')
  })
})

describe('formatSummary for a run with mixed outcomes', () => {
  const mixed = summary({
    commands: 100,
    counts: { ok: 60, unknown: 10, failed: 5, timeout: 9, cancelled: 0, lost: 16 },
    batches: 7,
    total: -42,
    elapsedMs: 2500,
    lostBatches: { unsent: 0, rejected: { 'queue-full': 1, 'too-large': 0 }, noResult: 0, interrupted: 0 },
    failedOn: ['lost', 'unknown', 'failed', 'timeout'],
    exitCode: 1,
  })

  it('prints every count in the first four lines', () => {
    expect(formatSummary(mixed).split('\n').slice(0, 4)).toEqual([
      'commands  100 sent · 60 ok · 10 unknown · 5 failed · 9 timeout · 0 cancelled · 16 lost',
      'batches   7 × 16 (last 4)',
      'total     -42',
      'elapsed   2.500 s  (34 commands/s)',
    ])
  })

  it('adds a lost line naming each cause that lost something', () => {
    const lost = formatSummary(mixed).split('\n').filter((line) => line.startsWith('lost'))
    expect(lost).toHaveLength(1)
    expect(lost[0]).toContain('16 commands')
    expect(lost[0]).toContain('1 rejected queue-full')
    expect(lost[0]).not.toContain('too-large')
  })

  it.each([
    { cause: 'unsent', lostBatches: { unsent: 2, rejected: {}, noResult: 0, interrupted: 0 }, text: '2 unsent' },
    { cause: 'without result', lostBatches: { unsent: 0, rejected: {}, noResult: 3, interrupted: 0 }, text: '3 without result' },
    { cause: 'interrupted', lostBatches: { unsent: 0, rejected: {}, noResult: 0, interrupted: 1 }, text: '1 interrupted' },
  ])('names $cause batches in the lost line', ({ lostBatches, text }) => {
    const out = formatSummary(summary({ counts: { ok: 496, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 16 }, lostBatches }))
    expect(out.split('\n').find((line) => line.startsWith('lost'))).toContain(text)
  })
})

describe('formatSummary when the last batch is partial', () => {
  it.each([
    { commands: 500, batches: 32, line: 'batches   32 × 16 (last 4)' },
    { commands: 497, batches: 32, line: 'batches   32 × 16 (last 1)' },
    { commands: 512, batches: 32, line: 'batches   32 × 16' },
    { commands: 0, batches: 0, line: 'batches   0 × 16' },
  ])('prints "$line" for $commands commands in $batches batches', ({ commands, batches, line }) => {
    const s = summary({ commands, batches, counts: { ok: commands, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 }, total: commands })
    expect(formatSummary(s).split('\n')[1]).toBe(line)
  })
})

describe('formatSummary when nothing was lost', () => {
  it('has no lost line, even with zero-count rejection reasons present', () => {
    const out = formatSummary(summary({ lostBatches: { unsent: 0, rejected: { 'queue-full': 0 }, noResult: 0, interrupted: 0 } }))
    expect(out.split('\n')).toHaveLength(4)
    expect(out).not.toMatch(/^lost/m)
  })
})

describe('a DispatchQueue', () => {
  const batch = (id: string, bytes: number, client = 'c'): QueuedBatch => ({
    id,
    client,
    replyTo: 'tcp://127.0.0.1:1',
    attempt: 1,
    runs: 0,
    body: Buffer.alloc(bytes),
    commands: 1,
    queued: false,
    secondRun: false,
    holders: 0,
    waitingSince: 0,
  })

  it('is full at its byte budget even when few batches are queued', () => {
    const queue = new DispatchQueue(1000, 1024)
    queue.push(batch('1', 600))
    expect(queue.isFull).toBe(false)
    queue.push(batch('2', 600))
    expect(queue.isFull).toBe(true)
    expect(queue.bytes).toBe(1200)
  })

  it('gives the bytes back on shift, removal of a client, requeue and drain', async () => {
    const queue = new DispatchQueue(1000, 1024)
    queue.push(batch('1', 600, 'a'))
    queue.push(batch('2', 600, 'b'))
    let woken = false
    void queue.whenNotFull().then(() => (woken = true))
    const first = queue.shift()!
    expect(queue.bytes).toBe(600)
    await Promise.resolve()
    expect(woken).toBe(true)
    queue.requeueFront([first])
    expect(queue.bytes).toBe(1200)
    expect(queue.removeClient('a').map((b) => b.id)).toEqual(['1'])
    expect(queue.bytes).toBe(600)
    queue.drain()
    expect(queue.bytes).toBe(0)
    expect(queue.length).toBe(0)
  })

  it('serves clients in turn, one batch each, and each client in arrival order', () => {
    const queue = new DispatchQueue(1000)
    for (const id of ['a1', 'a2', 'a3', 'a4', 'a5']) queue.push(batch(id, 1, 'a'))
    queue.push(batch('b1', 1, 'b'))
    queue.push(batch('b2', 1, 'b'))
    queue.push(batch('c1', 1, 'c'))
    expect(queue.clients).toBe(3)
    expect(queue.drain().map((b) => b.id)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4', 'a5'])
    expect([queue.length, queue.clients, queue.bytes]).toEqual([0, 0, 0])
  })

  it("lets a small client's batches out soon after a big backlog of another's", () => {
    const queue = new DispatchQueue(100_000)
    for (let i = 0; i < 10_000; i++) queue.push(batch(`big${i}`, 1, 'big'))
    queue.push(batch('small1', 1, 'small'))
    queue.push(batch('small2', 1, 'small'))
    const order = Array.from({ length: 4 }, () => queue.shift()!.id)
    expect(order).toEqual(['big0', 'small1', 'big1', 'small2'])
  })

  it('puts requeued batches first, with their client first in turn', () => {
    const queue = new DispatchQueue(1000)
    queue.push(batch('a1', 1, 'a'))
    queue.push(batch('b1', 1, 'b'))
    queue.push(batch('b2', 1, 'b'))
    queue.requeueFront([batch('b0', 1, 'b'), batch('c0', 1, 'c')])
    expect(queue.drain().map((b) => b.id)).toEqual(['b0', 'c0', 'a1', 'b1', 'b2'])
  })

  it("forgets a removed client's turn", () => {
    const queue = new DispatchQueue(1000)
    queue.push(batch('a1', 1, 'a'))
    queue.push(batch('b1', 1, 'b'))
    queue.push(batch('a2', 1, 'a'))
    expect(queue.removeClient('a').map((b) => b.id)).toEqual(['a1', 'a2'])
    expect(queue.removeClient('nobody')).toEqual([])
    expect(queue.drain().map((b) => b.id)).toEqual(['b1'])
  })

  it('is full at its batch limit whatever the bytes', () => {
    const queue = new DispatchQueue(2)
    queue.push(batch('1', 1))
    queue.push(batch('2', 1))
    expect(queue.isFull).toBe(true)
  })
})
