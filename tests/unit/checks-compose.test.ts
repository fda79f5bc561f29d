/**
 * The checks executor composed with fake kinds that record their calls: the
 * map answers first, then unknown checks and addresses outside targets are
 * code 1 without any kind being called, then the per-address queue, then the
 * kind with the capped timeout.
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createChecksExecutor, MAX_REMEMBERED_ADDRESSES, type CheckKinds, type ChecksExecutorDeps } from '../../src/executors/checks/compose.js'
import { parseChecksText } from '../../src/executors/checks/file.js'
import type { CheckDefinition, CheckKind, CheckRun, CheckValue } from '../../src/executors/checks/types.js'
import type { Executor } from '../../src/executors/types.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/checks/', import.meta.url))

const FILE = [
  'targets = ["127.0.0.0/8", "::1", "*.dc1.example", "monitor.example"]',
  '[check.ssh]',
  'tcp = 22',
  'timeout = "3s"',
  '[check.web]',
  'http = "http://{address}:8080/health"',
  '[check.proxied]',
  'http = "http://monitor.example/probe?host={address}"',
  '[check.elsewhere]',
  'http = "http://outside.example/probe?host={address}"',
  '[check.plugin]',
  'exec = ["./plugin.sh", "-H", "{address}"]',
  '[check.single]',
  'tcp = 1',
  'per_target = 1',
  '[check.slow]',
  'tcp = 2',
  'rate = "2/s"',
  '[check.rare]',
  'tcp = 3',
  'per_target = 1',
  'rate = "1/m"',
]

interface Call {
  readonly kind: string
  readonly check: CheckDefinition
  readonly run: CheckRun
  readonly at: number
}

const OK: CheckValue = { state: 0, output: 'fake', ms: 0 }

/** Fake kinds: each call is recorded; `hold` makes calls wait until released. */
function fakeKinds() {
  const calls: Call[] = []
  const held: (() => void)[] = []
  let hold = false
  const kind =
    (name: string) =>
    (check: CheckKind, run: CheckRun): Promise<CheckValue> => {
      // compose hands each kind the whole definition; the kinds read only their own part.
      calls.push({ kind: name, check: check as CheckDefinition, run, at: Date.now() })
      if (!hold) return Promise.resolve(OK)
      return new Promise((resolve) => held.push(() => resolve(OK)))
    }
  const kinds: CheckKinds = { exec: kind('exec'), tcp: kind('tcp'), http: kind('http') }
  return {
    kinds,
    calls,
    holdCalls: (on: boolean) => (hold = on),
    releaseAll: () => held.splice(0).forEach((release) => release()),
    released: () => held.length,
  }
}

let fake: ReturnType<typeof fakeKinds>
let executor: Executor
let signal: AbortSignal

function make(deps: Partial<ChecksExecutorDeps> = {}): Executor {
  executor = createChecksExecutor(parseChecksText(FILE.join('\n'), join(FIXTURES, 'compose.toml')), { kinds: fake.kinds, ...deps })
  return executor
}

beforeEach(() => {
  fake = fakeKinds()
  signal = new AbortController().signal
})

afterEach(async () => {
  fake.releaseAll()
  await executor.close?.()
  vi.useRealTimers()
})

describe('the order in which a command is answered', () => {
  it('an exact map pair answers first, before any check, target or queue', async () => {
    const map = (address: string, command: string): unknown => (address === '8.8.8.8' && command === 'ssh' ? 7 : address === '127.0.0.1' && command === 'late' ? Promise.resolve(8) : undefined)
    make({ map })
    expect(await executor('8.8.8.8', 'ssh', signal)).toBe(7)
    expect(await executor('127.0.0.1', 'late', signal)).toBe(8)
    expect(fake.calls).toEqual([])
    expect(await executor('127.0.0.1', 'ssh', signal)).toBe(OK)
    expect(fake.calls.map((c) => c.kind)).toEqual(['tcp'])
  })

  it('a command that names no check is unknown (code 1), and no kind runs', async () => {
    make()
    await expect(executor('127.0.0.1', 'nope', signal)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_COMMAND' })
    expect(fake.calls).toEqual([])
  })

  it.each(['8.8.8.8', '10.0.0.1', 'localhost', 'a.b.dc1.example', '::2'])('an address outside targets (%s) is unknown, and no kind runs', async (address) => {
    make()
    for (const check of ['ssh', 'web', 'plugin']) await expect(executor(address, check, signal)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_COMMAND' })
    expect(fake.calls).toEqual([])
  })

  it('the targets decision, remembered per address, is the same every time, past the memory bound too', async () => {
    make()
    const outside = ['8.8.8.8', 'LOCALHOST', '::2']
    const inside = ['127.0.0.1', '::FFFF:127.0.0.1', 'WEB1.dc1.example.']
    for (let round = 0; round < 3; round++) {
      for (const address of outside) await expect(executor(address, 'ssh', signal)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_COMMAND' })
      for (const address of inside) expect(await executor(address, 'ssh', signal)).toBe(OK)
    }
    // More distinct addresses than are remembered: the memory starts afresh, and the answers stay.
    for (let i = 0; i <= MAX_REMEMBERED_ADDRESSES; i++) await expect(executor(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 'ssh', signal)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_COMMAND' })
    for (const address of outside) await expect(executor(address, 'ssh', signal)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_COMMAND' })
    for (const address of inside) expect(await executor(address, 'ssh', signal)).toBe(OK)
    expect(fake.calls.map((c) => c.run.address)).toEqual([...inside, ...inside, ...inside, ...inside])
  })

  it("an http check's URL host, once substituted, must be inside targets too", async () => {
    make()
    expect(await executor('127.0.0.1', 'proxied', signal)).toBe(OK)
    await expect(executor('127.0.0.1', 'elsewhere', signal)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_COMMAND' })
    expect(fake.calls.map((c) => c.check.name)).toEqual(['proxied'])
  })

  it('an IPv6 address reaches an http check (its URL host is bracketed, the match is not)', async () => {
    make()
    expect(await executor('::1', 'web', signal)).toBe(OK)
    expect(fake.calls[0]!.run.address).toBe('::1')
  })

  it('each kind gets its check and { address, signal, timeoutMs, command }', async () => {
    make()
    await executor('web1.dc1.example', 'ssh', signal)
    await executor('127.0.0.1', 'web', signal)
    await executor('127.0.0.1', 'plugin', signal)
    expect(fake.calls.map((c) => c.kind)).toEqual(['tcp', 'http', 'exec'])
    expect(fake.calls[0]!.check).toMatchObject({ kind: 'tcp', port: 22, name: 'ssh' })
    expect(fake.calls[0]!.run).toEqual({ address: 'web1.dc1.example', signal, timeoutMs: 3000, command: 'ssh' })
    expect(fake.calls[2]!.check).toMatchObject({ kind: 'exec', argv: [join(FIXTURES, 'plugin.sh'), '-H', '{address}'] })
  })
})

describe('the timeout a kind gets', () => {
  it("is the check's, capped at the worker's commandTimeoutMs", async () => {
    make({ commandTimeoutMs: 1500 })
    await executor('127.0.0.1', 'ssh', signal)
    await executor('127.0.0.1', 'web', signal)
    expect(fake.calls.map((c) => c.run.timeoutMs)).toEqual([1500, 1500])
  })

  it("is the check's when the worker's is longer or 0 (none)", async () => {
    make({ commandTimeoutMs: 0 })
    await executor('127.0.0.1', 'ssh', signal)
    await executor.close?.()
    make({ commandTimeoutMs: 60_000 })
    await executor('127.0.0.1', 'web', signal)
    expect(fake.calls.map((c) => c.run.timeoutMs)).toEqual([3000, 10_000])
  })
})

describe('per-address limits', () => {
  it('per_target: a second command against the same address waits for the first', async () => {
    make()
    fake.holdCalls(true)
    const first = executor('127.0.0.1', 'single', signal)
    const second = executor('127.0.0.1', 'single', signal)
    const elsewhere = executor('127.0.0.2', 'single', signal)
    await vi.waitFor(() => expect(fake.calls).toHaveLength(2))
    expect(fake.calls.map((c) => c.run.address)).toEqual(['127.0.0.1', '127.0.0.2'])
    fake.releaseAll()
    await first
    await vi.waitFor(() => expect(fake.calls).toHaveLength(3))
    fake.releaseAll()
    await Promise.all([second, elsewhere])
  })

  it('per_target holds for an address however it is spelt: one device, one queue', async () => {
    make()
    fake.holdCalls(true)
    const spellings = [
      ['127.0.0.1', '::ffff:127.0.0.1', '::FFFF:7f00:1', '0:0:0:0:0:ffff:7f00:0001', '127.0.0.1.'],
      ['::1', '[::1]', '0:0:0:0:0:0:0:1', '0000::0001'],
      ['web1.dc1.example', 'WEB1.dc1.example.', 'web1.DC1.EXAMPLE'],
    ]
    const all = spellings.flat().map((address) => executor(address, 'single', signal))
    await vi.waitFor(() => expect(fake.calls).toHaveLength(3))
    await new Promise((resolve) => setImmediate(resolve))
    // One running per device; the other spellings wait their turn behind it.
    expect(fake.calls.map((c) => c.run.address)).toEqual(['127.0.0.1', '::1', 'web1.dc1.example'])
    while (fake.calls.length < all.length) {
      fake.releaseAll()
      await new Promise((resolve) => setImmediate(resolve))
    }
    fake.releaseAll()
    await Promise.all(all)
  })

  it('rate: 2/s starts two at once, then two a second later', async () => {
    vi.useFakeTimers()
    make({ clock: () => Date.now() })
    const t0 = Date.now()
    const all = Array.from({ length: 5 }, () => executor('127.0.0.1', 'slow', signal))
    await vi.advanceTimersByTimeAsync(3000)
    await Promise.all(all)
    expect(fake.calls.map((c) => c.at - t0)).toEqual([0, 0, 1000, 1000, 2000])
  })

  it('a waiting command whose signal aborts rejects with its reason at once, and its kind is never called', async () => {
    make()
    fake.holdCalls(true)
    const running = executor('127.0.0.1', 'single', signal)
    const controller = new AbortController()
    const waiting = executor('127.0.0.1', 'single', controller.signal)
    await vi.waitFor(() => expect(fake.calls).toHaveLength(1))
    controller.abort(new Error('cancelled'))
    await expect(waiting).rejects.toThrow('cancelled')
    fake.releaseAll()
    await running
    expect(fake.calls).toHaveLength(1)
  })

  it('a full LRU evicts its least recently used idle queue: that address starts afresh', async () => {
    vi.useFakeTimers()
    make({ maxQueues: 1, clock: () => Date.now() })
    const t0 = Date.now()
    await executor('127.0.0.1', 'rare', signal)
    await executor('127.0.0.2', 'rare', signal) // evicts 127.0.0.1's idle queue (1/m)
    await executor('127.0.0.1', 'rare', signal) // so this starts at once rather than a minute later
    expect(fake.calls.map((c) => c.at - t0)).toEqual([0, 0, 0])
  })

  it('an idle rate-limited queue stays until its interval has passed, then goes with its timer', async () => {
    vi.useFakeTimers()
    make({ clock: () => Date.now() })
    const t0 = Date.now()
    await executor('127.0.0.1', 'rare', signal)
    const next = executor('127.0.0.1', 'rare', signal)
    await vi.advanceTimersByTimeAsync(60_000)
    await next
    expect(fake.calls.map((c) => c.at - t0)).toEqual([0, 60_000])
    await vi.advanceTimersByTimeAsync(60_000)
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('close()', () => {
  it('waits for running checks to end', async () => {
    make()
    fake.holdCalls(true)
    const running = executor('127.0.0.1', 'ssh', signal)
    await vi.waitFor(() => expect(fake.released()).toBe(1))
    let closed = false
    const closing = Promise.resolve(executor.close?.()).then(() => (closed = true))
    await new Promise((resolve) => setImmediate(resolve))
    expect(closed).toBe(false)
    fake.releaseAll()
    await closing
    expect(await running).toBe(OK)
  })
})
