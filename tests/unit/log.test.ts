import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { pino } from 'pino'
import { RateLimitedLog } from '../../src/log.js'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

function capture(): { lines: () => { msg: string; suppressed?: number }[]; log: RateLimitedLog } {
  const out: string[] = []
  const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (out.push(chunk.toString()), done()) }))
  return { lines: () => out.map((line) => JSON.parse(line) as { msg: string; suppressed?: number }), log: new RateLimitedLog(logger, 3) }
}

describe('RateLimitedLog', () => {
  it('writes its limit per second, then one line counting the rest, even when nothing follows', async () => {
    const { lines, log } = capture()
    for (let i = 0; i < 10; i++) log.warn({ i }, 'malformed message')
    expect(lines()).toHaveLength(3)
    await vi.advanceTimersByTimeAsync(1000)
    expect(lines().map((l) => [l.msg, l.suppressed])).toEqual([
      ['malformed message', undefined],
      ['malformed message', undefined],
      ['malformed message', undefined],
      ['malformed message: 7 more not logged', 7],
    ])
  })

  it('counts each window once when messages keep coming', async () => {
    const { lines, log } = capture()
    for (let i = 0; i < 5; i++) log.warn({}, 'm')
    await vi.advanceTimersByTimeAsync(1000)
    for (let i = 0; i < 4; i++) log.warn({}, 'm')
    await vi.advanceTimersByTimeAsync(1000)
    expect(lines().filter((l) => l.suppressed !== undefined).map((l) => l.suppressed)).toEqual([2, 1])
    expect(vi.getTimerCount()).toBe(0)
  })
})
