/**
 * The gateway's dispatch bookkeeping as pure pieces: the credit ring that
 * picks the next worker, the index of batches by client and id, a worker's
 * held batches, and the queue's byte bound over queued and held batches.
 */
import { describe, expect, it } from 'vitest'
import { BatchIndex } from '../../src/gateway/batch-index.js'
import { CreditRing } from '../../src/gateway/credit-ring.js'
import { DispatchQueue, type QueuedBatch } from '../../src/gateway/dispatch-queue.js'
import { WorkerSession } from '../../src/gateway/worker-session.js'

function session(id: string, capacity: number): WorkerSession {
  return new WorkerSession(id, Buffer.from(id), id, capacity, 0)
}

function batch(id: string, client = 'c', bytes = 10): QueuedBatch {
  return { id, client, replyTo: 'tcp://127.0.0.1:1', attempt: 1, runs: 0, body: Buffer.alloc(bytes), commands: 1, queued: false, secondRun: false, holders: 0 }
}

/** Dispatches `n` batches the way the gateway does and names the worker each went to. */
function dispatchTo(ring: CreditRing<WorkerSession>, n: number): string[] {
  const order: string[] = []
  for (let i = 0; i < n; i++) {
    const worker = ring.take()
    if (worker === undefined) break
    worker.hold(batch(`${i}`), 0)
    ring.offer(worker)
    order.push(worker.id)
  }
  return order
}

describe('a CreditRing', () => {
  it('serves workers in turn, one batch each, whatever capacity each declared', () => {
    const ring = new CreditRing<WorkerSession>()
    const rogue = session('rogue', 1_000_000)
    const honest = session('honest', 64)
    ring.offer(rogue)
    ring.offer(honest)
    const order = dispatchTo(ring, 32)
    expect(order.filter((id) => id === 'rogue')).toHaveLength(16)
    expect(order.slice(0, 4)).toEqual(['rogue', 'honest', 'rogue', 'honest'])
  })

  it('passes over a worker with no free capacity until it is offered again', () => {
    const ring = new CreditRing<WorkerSession>()
    const small = session('small', 1)
    const big = session('big', 3)
    ring.offer(small)
    ring.offer(big)
    expect(dispatchTo(ring, 5)).toEqual(['small', 'big', 'big', 'big'])
    expect(ring.hasCredit).toBe(false)
    small.release('c', '0', 1)
    ring.offer(small)
    expect(ring.take()).toBe(small)
  })

  it('drops a worker that is no longer live, lazily', () => {
    const ring = new CreditRing<WorkerSession>()
    const gone = session('gone', 4)
    const stays = session('stays', 4)
    ring.offer(gone)
    ring.offer(stays)
    gone.live = false
    expect(ring.take()).toBe(stays)
    expect(ring.take()).toBeUndefined()
  })

  it('skips workers the caller refuses but keeps their turn', () => {
    const ring = new CreditRing<WorkerSession>()
    const a = session('a', 2)
    const b = session('b', 2)
    ring.offer(a)
    ring.offer(b)
    expect(ring.take((w) => w !== a)).toBe(b)
    ring.offer(b)
    expect(ring.take()).toBe(a)
  })

  it('gives a worker one place however often it is offered', () => {
    const ring = new CreditRing<WorkerSession>()
    const a = session('a', 2)
    ring.offer(a)
    ring.offer(a)
    expect(ring.take()).toBe(a)
    expect(ring.take()).toBeUndefined()
  })
})

describe('a BatchIndex', () => {
  it('keeps client "k" with batch "a\\nb" apart from client "k\\na" with batch "b"', () => {
    const index = new BatchIndex<string>()
    index.set('k', 'a\nb', 'first')
    expect(index.has('k\na', 'b')).toBe(false)
    index.set('k\na', 'b', 'second')
    expect([index.get('k', 'a\nb'), index.get('k\na', 'b'), index.size]).toEqual(['first', 'second', 2])
    expect(index.take('k', 'a\nb')).toBe('first')
    expect([index.has('k', 'a\nb'), index.size]).toEqual([false, 1])
  })
})

describe('a WorkerSession', () => {
  it('knows the batch it has held longest, and releases by client and id', () => {
    const worker = session('w', 4)
    const first = batch('1')
    worker.hold(first, 100)
    worker.hold(batch('2'), 200)
    expect([worker.oldestSince, worker.free]).toEqual([100, 2])
    expect(worker.release('c', '1', 300)).toBe(first)
    expect(worker.oldestSince).toBe(200)
    expect(worker.release('c', '1', 300)).toBeUndefined()
    expect(worker.releaseAll(400).map((b) => b.id)).toEqual(['2'])
    expect([worker.holding, worker.idleSince]).toEqual([0, 400])
  })
})

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
