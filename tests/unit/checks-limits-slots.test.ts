/**
 * The per-address queues and the worker's slots (limits.ts, CommandControl):
 * a command that cannot start at once gives its slot back before it waits,
 * and once its queue lets it go, runs only after its resume resolves; one
 * that starts at once never touches its control.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { TargetLimiter } from '../../src/executors/checks/limits.js'
import type { CheckLimits } from '../../src/executors/checks/types.js'
import type { CommandControl } from '../../src/executors/types.js'

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

/** A control that records its calls; `grant()` resolves the pending resume, `refuse()` rejects it. */
function recordingControl() {
  const calls: string[] = []
  let grant: () => void = () => undefined
  let refuse: (reason: unknown) => void = () => undefined
  const control: CommandControl = {
    yieldSlot: () => void calls.push('yield'),
    resume: () => {
      calls.push('resume')
      return new Promise<void>((resolve, reject) => {
        grant = resolve
        refuse = reject
      })
    },
  }
  return { control, calls, grant: () => grant(), refuse: (reason: unknown) => refuse(reason) }
}

let limiter: TargetLimiter

afterEach(async () => {
  vi.useRealTimers()
  await limiter.close()
})

describe('a command under per_target', () => {
  it('keeps its slot when it starts at once, and gives it back only when it must wait', async () => {
    limiter = new TargetLimiter()
    const limits: CheckLimits = { timeoutMs: 1000, perTarget: 1 }
    const signal = new AbortController().signal
    const first = recordingControl()
    const second = recordingControl()
    let endFirst!: () => void
    const ran: string[] = []
    const one = limiter.run('10.0.0.1', limits, signal, () => new Promise<string>((resolve) => (ran.push('one'), (endFirst = () => resolve('one')))), first.control)
    const two = limiter.run('10.0.0.1', limits, signal, async () => (ran.push('two'), 'two'), second.control)
    // Synchronously, inside run(): the second gave its slot back before waiting.
    expect(first.calls).toEqual([])
    expect(second.calls).toEqual(['yield'])
    endFirst()
    expect(await one).toBe('one')
    await flush()
    // Its queue let it go: it asks for a slot, and runs only once it has one.
    expect(second.calls).toEqual(['yield', 'resume'])
    expect(ran).toEqual(['one'])
    expect(limiter.running).toBe(1)
    second.grant()
    expect(await two).toBe('two')
    expect(ran).toEqual(['one', 'two'])
    expect(first.calls).toEqual([])
  })

  it('does not run a command whose resume rejects, and frees its place in the queue', async () => {
    limiter = new TargetLimiter()
    const limits: CheckLimits = { timeoutMs: 1000, perTarget: 1 }
    const signal = new AbortController().signal
    let endFirst!: () => void
    const one = limiter.run('10.0.0.1', limits, signal, () => new Promise<void>((resolve) => (endFirst = resolve)))
    const waiting = recordingControl()
    const task = vi.fn(async () => 'never')
    const two = limiter.run('10.0.0.1', limits, signal, task, waiting.control)
    endFirst()
    await one
    await flush()
    const reason = new Error('cancelled')
    waiting.refuse(reason)
    await expect(two).rejects.toBe(reason)
    expect(task).not.toHaveBeenCalled()
    expect(limiter.running).toBe(0)
    expect(await limiter.run('10.0.0.1', limits, signal, async () => 'next')).toBe('next')
  })
})

describe('a command under a rate', () => {
  it('gives its slot back while the rate window is spent, and resumes when the next window opens', async () => {
    vi.useFakeTimers()
    limiter = new TargetLimiter()
    const limits: CheckLimits = { timeoutMs: 1000, perTarget: 4, rate: { count: 1, intervalMs: 1000 } }
    const signal = new AbortController().signal
    const first = recordingControl()
    const second = recordingControl()
    expect(await limiter.run('10.0.0.1', limits, signal, async () => 1, first.control)).toBe(1)
    const two = limiter.run('10.0.0.1', limits, signal, async () => 2, second.control)
    expect(first.calls).toEqual([])
    expect(second.calls).toEqual(['yield'])
    await vi.advanceTimersByTimeAsync(999)
    expect(second.calls).toEqual(['yield'])
    await vi.advanceTimersByTimeAsync(1)
    expect(second.calls).toEqual(['yield', 'resume'])
    second.grant()
    expect(await two).toBe(2)
  })
})
