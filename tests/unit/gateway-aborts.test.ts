/**
 * The gateway's memory of aborted clients, as a specification on a fake
 * clock: bounded in time and in count, since client ids are untrusted.
 */
import { describe, expect, it } from 'vitest'
import { AbortRegistry } from '../../src/gateway/abort-registry.js'

describe('an abort registry', () => {
  it('remembers an aborted client for ttlMs', () => {
    let now = 0
    const aborts = new AbortRegistry(() => now, 10, 1000)
    expect(aborts.has('c')).toBe(false)
    aborts.remember('c')
    now = 999
    expect(aborts.has('c')).toBe(true)
    now = 1000
    expect([aborts.has('c'), aborts.size]).toEqual([false, 0])
  })

  it('keeps at most max clients, forgetting the oldest first; remembering again makes one the newest', () => {
    const aborts = new AbortRegistry(() => 0, 3, 1000)
    for (const client of ['a', 'b', 'c']) aborts.remember(client)
    aborts.remember('a')
    aborts.remember('d')
    expect(['a', 'b', 'c', 'd'].map((client) => aborts.has(client))).toEqual([true, false, true, true])
    expect(aborts.size).toBe(3)
  })

  it('defaults to 10 000 clients for 10 minutes', () => {
    const aborts = new AbortRegistry(() => 0)
    expect([aborts.max, aborts.ttlMs]).toEqual([10_000, 600_000])
  })
})
