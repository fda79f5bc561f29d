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

describe('the pretty logger of a terminal', () => {
  it('escapes control and bidi characters in messages and fields, so a network id cannot rewrite the screen', async () => {
    const { spawn } = await import('node:child_process')
    const script = `
      import('${new URL('../../dist/log.js', import.meta.url).href}').then(({ createLogger }) => {
        createLogger({ pretty: true }).warn({ client: 'a\\x1b[2Jb\\u202e', nested: { w: '\\u009bx' } }, 'msg \\x1b]0;title\\x07 end')
      })`
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    await new Promise((resolve) => child.once('exit', resolve))
    for (const raw of ['\x1b[2J', '\u202e', '\u009b', '\x1b]0;', '\x07']) expect(stderr).not.toContain(raw)
    for (const shown of ['\\x1b[2J', '\\u202e', '\\x9bx', '\\x1b]0;title\\x07']) expect(stderr).toContain(shown)
  })
})
