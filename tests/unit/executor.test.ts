/**
 * The simulated device-map executor, with the clock faked (the one boundary
 * mocked here): answers after each entry's wait, cancels through the signal,
 * and leaves no timer behind.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DeviceMap } from '../../src/data/device-map.js'
import { deviceMapExecutor } from '../../src/executors/device-map.js'
import { UnknownCommandError } from '../../src/errors.js'

function mapOf(entries: [string, string, number, number][]): DeviceMap {
  const map = new DeviceMap()
  for (const [address, command, response, waitMs] of entries) map.set(address, command, { line: 1, response, waitMs })
  return map
}

beforeEach(() => {
  // performance too: the executor keys its shared timers on the monotonic clock.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] })
})

afterEach(() => {
  vi.useRealTimers()
})

describe('deviceMapExecutor', () => {
  it("answers each command's response after its wait, not before", async () => {
    const run = deviceMapExecutor(mapOf([['10.0.0.1', 'foo', 7, 1000], ['10.0.0.1', 'bar', 9, 500]]))
    const signal = new AbortController().signal
    const answers: number[] = []
    void run('10.0.0.1', 'foo', signal).then((v) => answers.push(v as number))
    void run('10.0.0.1', 'bar', signal).then((v) => answers.push(v as number))
    await vi.advanceTimersByTimeAsync(499)
    expect(answers).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(answers).toEqual([9])
    await vi.advanceTimersByTimeAsync(500)
    expect(answers).toEqual([9, 7])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('answers a zero wait at once and an unknown address or command with UnknownCommandError', async () => {
    const run = deviceMapExecutor(mapOf([['10.0.0.1', 'foo', 3, 0]]))
    const signal = new AbortController().signal
    await expect(run('10.0.0.1', 'foo', signal)).resolves.toBe(3)
    await expect(run('10.0.0.2', 'foo', signal)).rejects.toBeInstanceOf(UnknownCommandError)
    await expect(run('10.0.0.1', 'reboot', signal)).rejects.toBeInstanceOf(UnknownCommandError)
  })

  it('shares one timer among the commands due in the same millisecond', async () => {
    const run = deviceMapExecutor(mapOf([['10.0.0.1', 'foo', 1, 1000]]))
    const signal = new AbortController().signal
    const all = Array.from({ length: 1000 }, () => run('10.0.0.1', 'foo', signal))
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(1000)
    expect(await Promise.all(all)).toEqual(new Array(1000).fill(1))
  })

  it('rejects with the reason when the signal aborts and leaves no timer behind', async () => {
    const run = deviceMapExecutor(mapOf([['10.0.0.1', 'foo', 1, 1000], ['10.0.0.1', 'bar', 1, 2000]]))
    const controller = new AbortController()
    const other = new AbortController()
    const cancelled = [run('10.0.0.1', 'foo', controller.signal), run('10.0.0.1', 'bar', controller.signal)]
    const kept = run('10.0.0.1', 'foo', other.signal)
    expect(vi.getTimerCount()).toBe(2)
    const reason = new Error('timed out')
    controller.abort(reason)
    for (const p of cancelled) await expect(p).rejects.toBe(reason)
    expect(vi.getTimerCount()).toBe(1) // the 2000 ms timer served only cancelled commands
    await vi.advanceTimersByTimeAsync(1000)
    await expect(kept).resolves.toBe(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('rejects at once on an already aborted signal', async () => {
    const run = deviceMapExecutor(mapOf([['10.0.0.1', 'foo', 1, 1000]]))
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await expect(run('10.0.0.1', 'foo', controller.signal)).rejects.toThrow('stop')
    expect(vi.getTimerCount()).toBe(0)
  })
})
