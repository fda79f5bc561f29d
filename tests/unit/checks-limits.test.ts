/**
 * Per-address limits: per_target and rate through one p-queue per address
 * (and per distinct limits), FIFO, abort of a waiting command, the LRU bound
 * and the idle drop. Fake timers drive p-queue's interval and the drop.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { TargetLimiter } from '../../src/executors/checks/limits.js'
import type { CheckLimits } from '../../src/executors/checks/types.js'

interface Deferred {
  readonly promise: Promise<string>
  resolve(value: string): void
}

function deferred(): Deferred {
  let resolve!: (value: string) => void
  const promise = new Promise<string>((r) => (resolve = r))
  return { promise, resolve }
}

/** Lets promise callbacks run (a few microtask turns). */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

const LIMITS: CheckLimits = { timeoutMs: 1000, perTarget: 2 }

let limiter: TargetLimiter
/** A signal that never aborts, fresh per test as the worker's is per runner. */
let NO_SIGNAL: AbortSignal

beforeEach(() => {
  NO_SIGNAL = new AbortController().signal
})

afterEach(async () => {
  await limiter.close()
})

describe('per_target', () => {
  beforeEach(() => {
    limiter = new TargetLimiter()
  })

  it('runs at most per_target at once against one address, starting them in arrival order', async () => {
    const gates = Array.from({ length: 5 }, deferred)
    const started: number[] = []
    let running = 0
    let peak = 0
    const results = gates.map((gate, i) =>
      limiter.run('10.0.0.1', LIMITS, NO_SIGNAL, async () => {
        started.push(i)
        peak = Math.max(peak, ++running)
        const value = await gate.promise
        running--
        return value
      }),
    )
    await flush()
    expect(started).toEqual([0, 1])
    gates[1]!.resolve('b')
    await flush()
    expect(started).toEqual([0, 1, 2])
    for (const [i, gate] of gates.entries()) gate.resolve(String(i))
    expect(await Promise.all(results)).toEqual(['0', 'b', '2', '3', '4'])
    expect(started).toEqual([0, 1, 2, 3, 4])
    expect(peak).toBe(2)
  })

  it('does not let a busy address hold back another', async () => {
    const gate = deferred()
    const first = [limiter.run('10.0.0.1', LIMITS, NO_SIGNAL, () => gate.promise), limiter.run('10.0.0.1', LIMITS, NO_SIGNAL, () => gate.promise)]
    expect(await limiter.run('10.0.0.2', LIMITS, NO_SIGNAL, async () => 'other')).toBe('other')
    gate.resolve('done')
    await Promise.all(first)
  })

  it('keys queues by address and limits: a check with its own per_target gets its own queue', async () => {
    const gate = deferred()
    const one: CheckLimits = { timeoutMs: 1000, perTarget: 1 }
    const held = limiter.run('10.0.0.1', one, NO_SIGNAL, () => gate.promise)
    let ran = false
    await limiter.run('10.0.0.1', LIMITS, NO_SIGNAL, async () => (ran = true))
    expect(ran).toBe(true)
    expect(limiter.queues).toBe(1) // the default-limits queue went idle and was dropped
    gate.resolve('x')
    await held
  })

  it('counts a host name in any case as one address', async () => {
    const gate = deferred()
    const one: CheckLimits = { timeoutMs: 1000, perTarget: 1 }
    const started: string[] = []
    const first = limiter.run('WEB1.example', one, NO_SIGNAL, () => (started.push('upper'), gate.promise))
    const second = limiter.run('web1.example', one, NO_SIGNAL, async () => void started.push('lower'))
    await flush()
    expect(started).toEqual(['upper'])
    gate.resolve('x')
    await Promise.all([first, second])
    expect(started).toEqual(['upper', 'lower'])
  })

  it('passes on the task result and rejection as they are', async () => {
    const boom = new Error('boom')
    await expect(limiter.run('10.0.0.1', LIMITS, NO_SIGNAL, () => Promise.reject(boom))).rejects.toBe(boom)
    await expect(limiter.run('10.0.0.1', LIMITS, NO_SIGNAL, async () => 42)).resolves.toBe(42)
  })
})

describe('rate', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    limiter = new TargetLimiter({ clock: () => Date.now() })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('starts at most N per interval against one address', async () => {
    const t0 = Date.now()
    const starts: number[] = []
    const limits: CheckLimits = { timeoutMs: 1000, perTarget: 10, rate: { count: 2, intervalMs: 1000 } }
    const all = Array.from({ length: 6 }, () => limiter.run('10.0.0.1', limits, NO_SIGNAL, async () => void starts.push(Date.now() - t0)))
    await vi.advanceTimersByTimeAsync(5000)
    await Promise.all(all)
    expect(starts).toEqual([0, 0, 1000, 1000, 2000, 2000])
  })

  it('keeps an idle rate-limited queue until its interval has passed, so no second burst gets through', async () => {
    const t0 = Date.now()
    const starts: number[] = []
    const limits: CheckLimits = { timeoutMs: 1000, perTarget: 10, rate: { count: 1, intervalMs: 1000 } }
    await limiter.run('10.0.0.1', limits, NO_SIGNAL, async () => void starts.push(Date.now() - t0))
    expect(limiter.queues).toBe(1)
    await vi.advanceTimersByTimeAsync(100)
    const second = limiter.run('10.0.0.1', limits, NO_SIGNAL, async () => void starts.push(Date.now() - t0))
    await vi.advanceTimersByTimeAsync(2000)
    await second
    expect(starts).toEqual([0, 1000])
    await vi.advanceTimersByTimeAsync(1000)
    expect(limiter.queues).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('a waiting command whose signal aborts', () => {
  beforeEach(() => {
    limiter = new TargetLimiter()
  })

  it('leaves the queue at once, rejects with the reason, and never runs', async () => {
    const gate = deferred()
    const one: CheckLimits = { timeoutMs: 1000, perTarget: 1 }
    const running = limiter.run('10.0.0.1', one, NO_SIGNAL, () => gate.promise)
    const controller = new AbortController()
    let ranAborted = false
    const waiting = limiter.run('10.0.0.1', one, controller.signal, async () => {
      ranAborted = true
      return 'never'
    })
    const after = limiter.run('10.0.0.1', one, NO_SIGNAL, async () => 'after')
    const reason = new Error('cancelled by the client')
    controller.abort(reason)
    await expect(waiting).rejects.toBe(reason)
    gate.resolve('first')
    expect(await running).toBe('first')
    expect(await after).toBe('after')
    expect(ranAborted).toBe(false)
  })

  it('one abort of a shared signal takes every waiting command out, and leaves the running one to its task', async () => {
    const gate = deferred()
    const one: CheckLimits = { timeoutMs: 1000, perTarget: 1 }
    const controller = new AbortController()
    const taskSignals: AbortSignal[] = []
    const running = limiter.run('10.0.0.1', one, controller.signal, () => {
      taskSignals.push(controller.signal)
      return gate.promise
    })
    const waiting = Array.from({ length: 100 }, () => limiter.run('10.0.0.1', one, controller.signal, async () => 'never'))
    controller.abort('stop')
    const outcomes = await Promise.allSettled(waiting)
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason === 'stop')).toBe(true)
    expect(limiter.running).toBe(1)
    gate.resolve('ended by its task')
    expect(await running).toBe('ended by its task')
    expect(limiter.queues).toBe(0)
  })

  it('rejects at once when the signal has already aborted, making no queue', async () => {
    await expect(limiter.run('10.0.0.1', LIMITS, AbortSignal.abort('gone'), async () => 'never')).rejects.toBe('gone')
    expect(limiter.queues).toBe(0)
  })
})

describe('the queues', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('drop a queue without a rate as soon as it is idle', async () => {
    limiter = new TargetLimiter()
    await Promise.all(['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((a) => limiter.run(a, LIMITS, NO_SIGNAL, async () => a)))
    expect(limiter.queues).toBe(0)
  })

  it('evict the least recently used idle queue when the LRU is full', async () => {
    vi.useFakeTimers()
    limiter = new TargetLimiter({ maxQueues: 2, clock: () => Date.now() })
    const limits: CheckLimits = { timeoutMs: 1000, perTarget: 1, rate: { count: 1, intervalMs: 60_000 } }
    await limiter.run('10.0.0.1', limits, NO_SIGNAL, async () => 1)
    await limiter.run('10.0.0.2', limits, NO_SIGNAL, async () => 2)
    // Both idle inside their interval; using 10.0.0.1's queue again makes 10.0.0.2's the least recent.
    const again = limiter.run('10.0.0.1', limits, NO_SIGNAL, async () => 'again')
    expect(limiter.queues).toBe(2)
    const t0 = Date.now()
    let thirdAt = -1
    await limiter.run('10.0.0.3', limits, NO_SIGNAL, async () => void (thirdAt = Date.now() - t0))
    expect(thirdAt).toBe(0)
    expect(limiter.queues).toBe(2)
    // 10.0.0.2's queue was the one evicted: a fresh queue lets it start at once.
    let secondAt = -1
    await limiter.run('10.0.0.2', limits, NO_SIGNAL, async () => void (secondAt = Date.now() - t0))
    expect(secondAt).toBe(0)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(await again).toBe('again')
  })

  it('run a command anyway when every queue is busy, beyond the cap', async () => {
    limiter = new TargetLimiter({ maxQueues: 1 })
    const gate = deferred()
    const busy = limiter.run('10.0.0.1', LIMITS, NO_SIGNAL, () => gate.promise)
    expect(await limiter.run('10.0.0.2', LIMITS, NO_SIGNAL, async () => 'ran')).toBe('ran')
    const alsoBusy = limiter.run('10.0.0.3', LIMITS, NO_SIGNAL, () => gate.promise)
    expect(limiter.queues).toBe(2)
    gate.resolve('x')
    await Promise.all([busy, alsoBusy])
    expect(limiter.queues).toBe(0)
  })
})

describe('close()', () => {
  it('rejects waiting commands, waits for running ones, and leaves no queue or timer', async () => {
    vi.useFakeTimers()
    try {
      limiter = new TargetLimiter({ clock: () => Date.now() })
      const limits: CheckLimits = { timeoutMs: 1000, perTarget: 1, rate: { count: 5, intervalMs: 1000 } }
      await limiter.run('10.0.0.9', limits, NO_SIGNAL, async () => 'cooling') // idle, inside its interval
      const gate = deferred()
      const running = limiter.run('10.0.0.1', limits, NO_SIGNAL, () => gate.promise)
      const waiting = limiter.run('10.0.0.1', limits, NO_SIGNAL, async () => 'never')
      let closed = false
      const closing = limiter.close().then(() => (closed = true))
      await expect(waiting).rejects.toThrow('the checks executor is closed')
      await flush()
      expect(closed).toBe(false)
      gate.resolve('finished')
      await closing
      expect(await running).toBe('finished')
      expect(limiter.queues).toBe(0)
      expect(vi.getTimerCount()).toBe(0)
      await expect(limiter.run('10.0.0.1', limits, NO_SIGNAL, async () => 'late')).rejects.toThrow('closed')
    } finally {
      vi.useRealTimers()
    }
  })

  it('leaves no timer of p-queue behind when a command waiting on a rate window was cancelled or closed', async () => {
    vi.useFakeTimers()
    try {
      limiter = new TargetLimiter({ clock: () => Date.now() })
      const limits: CheckLimits = { timeoutMs: 1000, perTarget: 4, rate: { count: 1, intervalMs: 60_000 } }
      await limiter.run('10.0.0.1', limits, NO_SIGNAL, async () => 'first') // the minute's one start
      const controller = new AbortController()
      const cancelled = limiter.run('10.0.0.1', limits, controller.signal, async () => 'never')
      const closedOut = limiter.run('10.0.0.1', limits, NO_SIGNAL, async () => 'never')
      await flush()
      controller.abort(new Error('cancelled'))
      await expect(cancelled).rejects.toThrow('cancelled')
      await limiter.close()
      await expect(closedOut).rejects.toThrow('closed')
      // A timer left here would hold a process that closed its executor for up to a minute.
      expect(vi.getTimerCount()).toBe(0)
    } finally {
      vi.useRealTimers()
    }
  })

  it('leaves no timer of p-queue behind after checks that ran one after the other within a rate window', async () => {
    // Real timers: p-queue arms its own, which the process would have to wait out (up to 2 minutes for "N/m").
    const before = process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length
    limiter = new TargetLimiter()
    const limits: CheckLimits = { timeoutMs: 1000, perTarget: 4, rate: { count: 3, intervalMs: 60_000 } }
    expect(await limiter.run('10.0.0.1', limits, NO_SIGNAL, async () => 'first')).toBe('first')
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await limiter.run('10.0.0.1', limits, NO_SIGNAL, async () => 'second')).toBe('second')
    await limiter.close()
    expect(process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length).toBe(before)
  })
})
