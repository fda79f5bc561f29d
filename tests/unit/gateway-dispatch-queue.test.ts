/**
 * The gateway's fair queue on its own (the ledger drives it): the byte bound
 * over queued and held batches, and the `queued` mark each batch carries
 * while it waits. Restored from the pre-issue-10 gateway-dispatch tests,
 * whose other cases moved to the ledger and registry specifications.
 */
import { describe, expect, it } from 'vitest'
import { DispatchQueue, type QueuedBatch } from '../../src/gateway/dispatch-queue.js'

function batch(id: string, client = 'c', bytes = 10): QueuedBatch {
  return { id, client, replyTo: 'tcp://127.0.0.1:1', attempt: 1, runs: 0, body: Buffer.alloc(bytes), commands: 1, queued: false, secondRun: false, holders: 0, waitingSince: 0 }
}

describe('a DispatchQueue with bytes held by workers', () => {
  it('counts held bytes against its byte bound, and wakes the intake when they are released', async () => {
    const queue = new DispatchQueue(1000, 100)
    queue.hold(90)
    queue.push(batch('1', 'c', 10))
    expect(queue.isFull).toBe(true)
    const first = queue.shift()!
    queue.hold(first.body.length)
    expect(queue.isFull).toBe(true)
    let woken = false
    void queue.whenNotFull().then(() => (woken = true))
    queue.hold(-90)
    await Promise.resolve()
    expect([woken, queue.isFull, queue.held]).toEqual([true, false, 10])
  })

  it('marks a batch queued while it waits, and not queued once it leaves', () => {
    const queue = new DispatchQueue(1000)
    const a1 = batch('1', 'a')
    queue.push(a1)
    queue.push(batch('2', 'a'))
    queue.push(batch('1', 'b'))
    expect(a1.queued).toBe(true)
    expect(queue.shift()).toBe(a1)
    expect([a1.queued, queue.length]).toEqual([false, 2])
    expect(queue.removeClient('a').map((b) => [b.id, b.queued])).toEqual([['2', false]])
    expect(queue.drain().map((b) => `${b.client}${b.id}`)).toEqual(['b1'])
  })
})
