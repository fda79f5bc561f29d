/**
 * ForkBackoff, on fake time: a worker that dies while booting pauses forking,
 * 250 ms doubling to 30 s, and the first worker that says ready resets it.
 */
import { describe, expect, it } from 'vitest'
import { BOOT_WINDOW_MS, ForkBackoff } from '../../src/gateway/fork-backoff.js'

const bootDeath = (forkedAt: number) => ({ forkedAt, ready: false, code: 1, configFailure: false })

describe('ForkBackoff', () => {
  it('lets the first fork go at once', () => {
    expect(new ForkBackoff().mayFork(0)).toBe(true)
  })

  it('pauses 250 ms after a boot death, then doubles each time up to 30 s', () => {
    const backoff = new ForkBackoff()
    const pauses: number[] = []
    let now = 1000
    for (let i = 0; i < 10; i++) {
      const pause = backoff.workerExited(bootDeath(now - 100), now)!
      pauses.push(pause)
      expect(backoff.mayFork(now + pause - 1)).toBe(false)
      expect(backoff.mayFork(now + pause)).toBe(true)
      now += pause
    }
    expect(pauses).toEqual([250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000])
    expect(backoff.bootDeaths).toBe(10)
  })

  it('a worker that said ready resets the pause to 250 ms', () => {
    const backoff = new ForkBackoff()
    for (let i = 0; i < 4; i++) backoff.workerExited(bootDeath(0), 10)
    backoff.workerReady()
    expect(backoff.bootDeaths).toBe(0)
    expect(backoff.workerExited(bootDeath(100), 200)).toBe(250)
  })

  it('does not count a worker that was ready, one that exited 0, or one that died after the boot window', () => {
    const backoff = new ForkBackoff()
    expect(backoff.workerExited({ forkedAt: 0, ready: true, code: 1, configFailure: false }, 10)).toBeUndefined()
    expect(backoff.workerExited({ forkedAt: 0, ready: false, code: 0, configFailure: false }, 10)).toBeUndefined()
    expect(backoff.workerExited(bootDeath(0), BOOT_WINDOW_MS)).toBeUndefined()
    expect(backoff.workerExited({ forkedAt: 0, ready: false, code: null, configFailure: false }, BOOT_WINDOW_MS + 1)).toBeUndefined()
    expect(backoff.bootDeaths).toBe(0)
    expect(backoff.mayFork(10)).toBe(true)
  })

  it('counts a killed boot (signal, code null) inside the window', () => {
    expect(new ForkBackoff().workerExited({ forkedAt: 0, ready: false, code: null, configFailure: false }, 100)).toBe(250)
  })

  it('counts an executor that cannot load however long the loading took', () => {
    const backoff = new ForkBackoff()
    expect(backoff.workerExited({ forkedAt: 0, ready: false, code: 78, configFailure: true }, 60_000)).toBe(250)
  })

  it('a fork that fails outright pauses like a boot death', () => {
    const backoff = new ForkBackoff()
    expect(backoff.forkFailed(0)).toBe(250)
    expect(backoff.mayFork(249)).toBe(false)
    expect(backoff.forkFailed(250)).toBe(500)
  })
})
