/**
 * HeldCalls, which holds the gateway's events while start() runs and delivers
 * them on a later turn. A listener that throws on one of them must not strand
 * the events after it, nor leave every later event held for ever.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { HeldCalls } from '../../src/util/held-calls.js'

afterEach(() => {
  vi.restoreAllMocks()
})

/** Releases the hold and returns the flush that setImmediate was given, to run by hand. */
function releaseAndCatchFlush(release: () => void): () => void {
  let flush: (() => void) | undefined
  const capture = (callback: () => void): never => {
    flush = callback
    return undefined as never
  }
  vi.spyOn(globalThis, 'setImmediate').mockImplementation(capture as unknown as typeof setImmediate)
  release()
  vi.restoreAllMocks()
  expect(flush).toBeDefined()
  return flush!
}

describe('HeldCalls', () => {
  it('holds calls until released, then runs them in order on a later turn', () => {
    const calls = new HeldCalls()
    const ran: number[] = []
    const release = calls.hold()
    calls.run(() => ran.push(1))
    calls.run(() => ran.push(2))
    const flush = releaseAndCatchFlush(release)
    expect(ran).toEqual([])
    flush()
    expect(ran).toEqual([1, 2])
    calls.run(() => ran.push(3))
    expect(ran).toEqual([1, 2, 3])
  })

  it('still runs the calls after one that throws, rethrows that error, and holds nothing afterwards', () => {
    const calls = new HeldCalls()
    const ran: string[] = []
    const release = calls.hold()
    calls.run(() => ran.push('listening'))
    calls.run(() => {
      throw new Error('a listener threw')
    })
    calls.run(() => ran.push('worker:spawn'))
    const flush = releaseAndCatchFlush(release)
    expect(flush).toThrow('a listener threw')
    expect(ran).toEqual(['listening', 'worker:spawn'])
    calls.run(() => ran.push('worker:ready'))
    expect(ran).toEqual(['listening', 'worker:spawn', 'worker:ready'])
  })
})
