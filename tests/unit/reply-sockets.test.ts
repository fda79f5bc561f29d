/**
 * ReplySockets' bounds, on real sockets and a fake clock: at most
 * `maxSockets` open (least recently used evicted first), and a socket unused
 * for `idleMs` closed by the sweep, unless messages still wait on it.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Pull } from 'zeromq'
import { ReplySockets } from '../../src/transport/reply-sockets.js'

const paths: string[] = []
const endpoint = (): string => {
  const path = join(tmpdir(), `cgw-rs-${process.pid}-${randomBytes(4).toString('hex')}.sock`)
  paths.push(path)
  return `ipc://${path}`
}

let caches: ReplySockets[] = []
const pulls: Pull[] = []
afterEach(async () => {
  for (const cache of caches) await cache.close(0)
  for (const pull of pulls.splice(0)) pull.close()
  caches = []
  // ZeroMQ leaves a bound ipc socket's file behind when it closes.
  const used = paths.splice(0)
  await Promise.all(used.map((path) => rm(path, { force: true })))
  for (const path of used) expect(existsSync(path)).toBe(false)
})

function cacheWith(options: ConstructorParameters<typeof ReplySockets>[0]): { cache: ReplySockets; clock: { now: number } } {
  const clock = { now: 0 }
  const cache = new ReplySockets({ lingerMs: 0, ...options, clock: () => clock.now })
  caches.push(cache)
  return { cache, clock }
}

describe('ReplySockets', () => {
  it('keeps at most maxSockets open, evicting the least recently used', async () => {
    const { cache } = cacheWith({ maxSockets: 2 })
    const [a, b, c] = [endpoint(), endpoint(), endpoint()]
    const pull = new Pull({ linger: 0 })
    pulls.push(pull)
    await pull.bind(a)
    cache.prepare(a)
    cache.prepare(b)
    // Using a makes b the least recently used one.
    await cache.send(a, [Buffer.from('x')])
    cache.prepare(c)
    expect(cache.size).toBe(2)
    expect(cache.opened).toBe(3)
    // a is still open (no new socket for it); b was evicted (a new one opens).
    cache.prepare(a)
    expect(cache.opened).toBe(3)
    cache.prepare(b)
    expect(cache.opened).toBe(4)
  })

  it('the sweep closes sockets idle for idleMs, and keeps the ones used since', async () => {
    const { cache, clock } = cacheWith({ idleMs: 60_000 })
    const [a, b] = [endpoint(), endpoint()]
    const pull = new Pull({ linger: 0 })
    pulls.push(pull)
    await pull.bind(b)
    cache.prepare(a)
    cache.prepare(b)
    clock.now = 59_999
    await cache.send(b, [Buffer.from('y')])
    cache.sweep()
    expect(cache.size).toBe(2)
    clock.now = 60_001
    cache.sweep()
    expect(cache.size).toBe(1)
    clock.now = 59_999 + 60_001
    cache.sweep()
    expect(cache.size).toBe(0)
  })

  it('the sweep keeps an idle socket that still has messages waiting to go out', async () => {
    const { cache, clock } = cacheWith({ idleMs: 1000, retries: 0, retryDelayMs: 5000 })
    const nobody = endpoint()
    // No peer: the send waits for room (up to retryDelayMs), so it is still in the backlog.
    const sent = cache.send(nobody, [Buffer.from('z')]).catch((error: unknown) => error)
    clock.now = 10_000
    cache.sweep()
    expect(cache.size).toBe(1)
    await cache.close(0)
    expect(await sent).toBeInstanceOf(Error)
  })
})
