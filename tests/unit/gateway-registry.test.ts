/**
 * The gateway's worker registry as a specification: who may join, the
 * capacity a worker is granted, the order credit is served in, and when a
 * worker is lost or due a heartbeat. On fake time: every call takes `now`.
 */
import { describe, expect, it } from 'vitest'
import type { QueuedBatch } from '../../src/gateway/dispatch-queue.js'
import { WorkerRegistry, type WorkerRegistryOptions } from '../../src/gateway/worker-registry.js'
import type { WorkerSession } from '../../src/gateway/worker-session.js'

const options: WorkerRegistryOptions = {
  maxConnectedWorkers: 10,
  maxWorkerCapacity: 1_000_000,
  heartbeatIntervalMs: 1000,
  heartbeatLiveness: 3,
  holdTimeoutMs: 0,
}

function join(registry: WorkerRegistry, id: string, capacity: number, now = 0): WorkerSession {
  const outcome = registry.ready(`key-${id}`, Buffer.from(`key-${id}`), id, capacity, false, now)
  if (outcome.kind !== 'joined') throw new Error(`${id} did not join: ${outcome.kind}`)
  return outcome.worker
}

let sequence = 0
function batch(): QueuedBatch {
  const id = `${++sequence}`
  return { id, client: 'c', replyTo: 'tcp://127.0.0.1:1', attempt: 1, runs: 0, body: Buffer.alloc(1), commands: 1, queued: false, secondRun: false, holders: 0, waitingSince: 0 }
}

/** Hands `n` batches out the way the ledger does and names the worker each went to. */
function serve(registry: WorkerRegistry, n: number, now = 0): string[] {
  const order: string[] = []
  for (let i = 0; i < n; i++) {
    const worker = registry.take()
    if (worker === undefined) break
    worker.held.add(batch(), now)
    registry.offer(worker)
    order.push(worker.id)
  }
  return order
}

describe('a worker saying ready', () => {
  it('joins with the capacity it declared, capped at maxWorkerCapacity', () => {
    const registry = new WorkerRegistry({ ...options, maxWorkerCapacity: 64 })
    const outcome = registry.ready('k', Buffer.from('k'), 'rogue', 1_000_000, false, 0)
    expect(outcome).toMatchObject({ kind: 'joined', capacity: 64 })
    expect(serve(registry, 100)).toHaveLength(64)
  })

  it('is refused when its id belongs to another live connection, and may join once that one is forgotten', () => {
    const registry = new WorkerRegistry(options)
    const first = join(registry, 'w', 1)
    expect(registry.ready('thief', Buffer.from('thief'), 'w', 1, false, 0)).toEqual({ kind: 'refused', reason: 'id-in-use' })
    registry.forget(first)
    expect(registry.ready('thief', Buffer.from('thief'), 'w', 1, false, 0).kind).toBe('joined')
    expect([registry.isCurrent(first), registry.byWorkerId('w')?.key]).toEqual([false, 'thief'])
  })

  it('is refused beyond maxConnectedWorkers', () => {
    const registry = new WorkerRegistry({ ...options, maxConnectedWorkers: 2 })
    join(registry, 'a', 1)
    join(registry, 'b', 1)
    expect(registry.ready('k', Buffer.from('k'), 'c', 1, false, 0)).toEqual({ kind: 'refused', reason: 'too-many-workers' })
    expect(registry.size).toBe(2)
  })

  it('again on a registered connection starts a new session there: new capacity, heard now, same session', () => {
    const registry = new WorkerRegistry(options)
    const worker = join(registry, 'w', 1)
    const again = registry.ready('key-w', Buffer.from('key-w'), 'w', 4, false, 2500)
    expect(again).toMatchObject({ kind: 'again', worker, capacity: 4 })
    expect([worker.capacity, registry.size, registry.check(worker, 5500)]).toEqual([4, 1, 'heartbeat-due'])
  })
})

describe('dispatch credit', () => {
  it('serves workers in turn, one batch each, whatever capacity each declared', () => {
    const registry = new WorkerRegistry(options)
    join(registry, 'rogue', 1_000_000)
    join(registry, 'honest', 64)
    const order = serve(registry, 32)
    expect(order.filter((id) => id === 'rogue')).toHaveLength(16)
    expect(order.slice(0, 4)).toEqual(['rogue', 'honest', 'rogue', 'honest'])
  })

  it('passes over a worker with no free capacity until it is offered again', () => {
    const registry = new WorkerRegistry(options)
    const small = join(registry, 'small', 1)
    join(registry, 'big', 3)
    expect(serve(registry, 5)).toEqual(['small', 'big', 'big', 'big'])
    expect(registry.hasCredit).toBe(false)
    small.held.releaseAll(1)
    registry.offer(small)
    expect(registry.take()).toBe(small)
  })

  it('drops a forgotten worker from its turn', () => {
    const registry = new WorkerRegistry(options)
    const gone = join(registry, 'gone', 4)
    const stays = join(registry, 'stays', 4)
    registry.forget(gone)
    registry.offer(gone)
    expect(registry.take()).toBe(stays)
    expect(registry.take()).toBeUndefined()
  })

  it('skips workers the caller refuses but keeps their turn', () => {
    const registry = new WorkerRegistry(options)
    const a = join(registry, 'a', 2)
    const b = join(registry, 'b', 2)
    expect(registry.take((w) => w !== a)).toBe(b)
    registry.offer(b)
    expect(registry.take()).toBe(a)
  })

  it('gives a worker one turn however often it is offered', () => {
    const registry = new WorkerRegistry(options)
    const a = join(registry, 'a', 2)
    registry.offer(a)
    registry.offer(a)
    expect(registry.take()).toBe(a)
    expect(registry.take()).toBeUndefined()
  })
})

describe('a worker\'s liveness', () => {
  it('is lost after heartbeatLiveness intervals with nothing heard, not at the boundary', () => {
    const registry = new WorkerRegistry(options)
    const worker = join(registry, 'w', 1, 0)
    registry.sent(worker, 2900)
    expect(registry.check(worker, 3000)).toBe('ok')
    expect(registry.check(worker, 3001)).toBe('lost:heartbeat')
  })

  it('is kept alive by anything heard from it', () => {
    const registry = new WorkerRegistry(options)
    const worker = join(registry, 'w', 1, 0)
    registry.heard(worker, 2000)
    registry.sent(worker, 4500)
    expect(registry.check(worker, 5000)).toBe('ok')
    expect(registry.check(worker, 5001)).toBe('lost:heartbeat')
  })

  it('is due a heartbeat as soon as it joins (nothing was sent to it yet), then after every interval in which nothing was', () => {
    const registry = new WorkerRegistry(options)
    const worker = join(registry, 'w', 1, 0)
    expect(registry.check(worker, 0)).toBe('heartbeat-due')
    registry.sent(worker, 0)
    expect(registry.check(worker, 999)).toBe('ok')
    expect(registry.check(worker, 1000)).toBe('heartbeat-due')
    registry.sent(worker, 1000)
    registry.heard(worker, 1000)
    expect(registry.check(worker, 1999)).toBe('ok')
  })
})

describe('the hold timeout', () => {
  it('loses a live worker that has held one batch longer than holdTimeoutMs', () => {
    const registry = new WorkerRegistry({ ...options, holdTimeoutMs: 500 })
    const worker = join(registry, 'w', 2, 0)
    worker.held.add(batch(), 100)
    worker.held.add(batch(), 400)
    registry.heard(worker, 600)
    registry.sent(worker, 600)
    expect(registry.check(worker, 600)).toBe('ok')
    expect(registry.check(worker, 601)).toBe('lost:hold-timeout')
  })

  it('is off at 0, and reports a silent worker as lost to heartbeats first', () => {
    const off = new WorkerRegistry(options)
    const holder = join(off, 'w', 1, 0)
    holder.held.add(batch(), 0)
    heardAndSent(off, holder, 1_000_000)
    expect(off.check(holder, 1_000_000)).toBe('ok')
    const on = new WorkerRegistry({ ...options, holdTimeoutMs: 10 })
    const silent = join(on, 'w', 1, 0)
    silent.held.add(batch(), 0)
    expect(on.check(silent, 3001)).toBe('lost:heartbeat')
  })
})

function heardAndSent(registry: WorkerRegistry, worker: WorkerSession, now: number): void {
  registry.heard(worker, now)
  registry.sent(worker, now)
}
