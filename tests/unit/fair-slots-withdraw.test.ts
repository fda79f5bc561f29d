/**
 * FairSlots.withdraw: one waiting batch taken out of the queue (a command
 * that was resuming after it gave its slot back, settled meanwhile). The
 * rings stay whole: the others start in the order they had, and the counts
 * stay right.
 */
import { describe, expect, it } from 'vitest'
import { FairSlots, type FairBatch } from '../../src/worker/fair-slots.js'

function bench(limit: number) {
  const slots = new FairSlots<string>(limit)
  const started: string[] = []
  const running: (() => void)[] = []
  const batch = (name: string): FairBatch => ({
    startCommand(index: number) {
      started.push(`${name}:${index}`)
      return new Promise<void>((resolve) => running.push(resolve))
    },
  })
  /** Ends every running command, one freed slot at a time. */
  const drain = async (): Promise<void> => {
    while (running.length > 0) {
      running.shift()!()
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
    }
  }
  return { slots, started, batch, drain }
}

describe('FairSlots.withdraw', () => {
  it("takes a batch's waiting commands out, wherever it is in the rings, and the rest start in their order", async () => {
    const { slots, started, batch, drain } = bench(1)
    slots.enqueue('A', batch('a0'), 1)
    const a1 = slots.enqueue('A', batch('a1'), 2)!
    slots.enqueue('A', batch('a2'), 1)
    const b1 = slots.enqueue('B', batch('b1'), 1)!
    const c1 = slots.enqueue('C', batch('c1'), 3)!
    expect(slots.queued).toBe(7)
    // c1 is the client whose turn is next, a1 is in the middle of A's ring, b1 is B alone.
    expect(slots.withdraw('C', c1)).toBe(3)
    expect(slots.withdraw('A', a1)).toBe(2)
    expect(slots.withdraw('B', b1)).toBe(1)
    expect([slots.queued, slots.waitingClients]).toEqual([1, 1])
    await drain()
    expect(started).toEqual(['a0:0', 'a2:0'])
    expect([slots.running, slots.queued, slots.waitingClients]).toEqual([0, 0, 0])
  })

  it('takes only what has not started, and nothing twice', async () => {
    const { slots, started, batch, drain } = bench(1)
    const a = slots.enqueue('A', batch('a'), 3)!
    slots.enqueue('B', batch('b'), 2)
    expect(slots.withdraw('A', a)).toBe(2)
    expect(slots.withdraw('A', a)).toBe(0)
    await drain()
    expect(started).toEqual(['a:0', 'b:0', 'b:1'])
    expect(slots.withdraw('B', slots.enqueue('B', batch('c'), 1)!)).toBe(0)
    await drain()
    expect([slots.running, slots.queued]).toEqual([0, 0])
  })

  it('finds nothing to take after its client was dropped, also once the client queues again', async () => {
    const { slots, started, batch, drain } = bench(1)
    slots.enqueue('B', batch('b'), 1)
    const a = slots.enqueue('A', batch('a'), 2)!
    expect(slots.drop('A')).toBe(2)
    slots.enqueue('A', batch('a-again'), 1)
    expect(slots.withdraw('A', a)).toBe(0)
    expect(slots.queued).toBe(1)
    await drain()
    expect(started).toEqual(['b:0', 'a-again:0'])
  })
})
