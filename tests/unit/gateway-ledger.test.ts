/**
 * The gateway's ledger as a specification: where every batch is (queued,
 * held, waiting for a second run), what a resend does, what happens to what a
 * worker gives back, and the byte bound over everything the gateway keeps.
 * Pure and on fake time: workers here are plain holders in a credit ring.
 */
import { describe, expect, it } from 'vitest'
import { Limits } from '../../src/protocol/limits.js'
import type { TaskHeader } from '../../src/protocol/types.js'
import { CreditRing, type CreditHolder } from '../../src/gateway/credit-ring.js'
import { HeldBatches } from '../../src/gateway/held-batches.js'
import { Ledger, type Credit, type Holder, type LedgerOptions } from '../../src/gateway/ledger.js'

class FakeWorker implements Holder, CreditHolder {
  readonly held = new HeldBatches(0)
  live = true
  inRing = false
  constructor(
    readonly id: string,
    readonly capacity: number,
  ) {}
  get free(): number {
    return this.capacity - this.held.size
  }
}

/** The credit ring the registry keeps, over fake workers; a new one gives each worker a fresh turn. */
class Workers implements Credit<FakeWorker> {
  private readonly ring = new CreditRing<FakeWorker>()
  constructor(...workers: FakeWorker[]) {
    for (const worker of workers) {
      worker.inRing = false
      this.ring.offer(worker)
    }
  }
  get hasCredit(): boolean {
    return this.ring.hasCredit
  }
  take(accepts: (worker: FakeWorker) => boolean): FakeWorker | undefined {
    return this.ring.take(accepts)
  }
  offer(worker: FakeWorker): void {
    this.ring.offer(worker)
  }
}

const options: LedgerOptions = { queueLimit: 1000, queueBytes: 1 << 30, maxAttempts: 3 }

function header(id: string, client = 'c', attempt = 1): TaskHeader {
  return { v: 1, type: 'task', id, client, replyTo: 'tcp://127.0.0.1:1', attempt }
}

function admit(ledger: Ledger, id: string, client = 'c', bytes = 10, attempt = 1): string {
  return ledger.admit(header(id, client, attempt), Buffer.alloc(bytes), 1, 0)
}

/** Dispatches and names each hand-over as `worker:client/id@attempt`. */
function dispatch(ledger: Ledger, workers: Workers, now = 0): string[] {
  return ledger.dispatch(workers, now).map(([w, b]) => `${w.id}:${b.client}/${b.id}@${b.attempt}`)
}

describe('a ledger taking in batches', () => {
  it('queues each new batch once, and serves clients in turn, one batch each, FIFO within a client', () => {
    const ledger = new Ledger(options)
    for (const id of ['a1', 'a2', 'a3']) expect(admit(ledger, id, 'a')).toBe('queued')
    admit(ledger, 'b1', 'b')
    const w = new FakeWorker('w', 10)
    expect(dispatch(ledger, new Workers(w))).toEqual(['w:a/a1@1', 'w:b/b1@1', 'w:a/a2@1', 'w:a/a3@1'])
    expect([ledger.queued, ledger.size, w.held.size]).toEqual([0, 4, 4])
  })

  it('keeps client "k" with batch "a\\nb" apart from client "k\\na" with batch "b"', () => {
    const ledger = new Ledger(options)
    expect(admit(ledger, 'a\nb', 'k')).toBe('queued')
    expect(admit(ledger, 'b', 'k\na')).toBe('queued')
    expect([ledger.queued, ledger.size]).toEqual([2, 2])
    const w = new FakeWorker('w', 1)
    dispatch(ledger, new Workers(w))
    expect(ledger.done(w, 'k', 'a\nb', 1)).toBe('completed')
    expect([ledger.find('k', 'a\nb'), ledger.find('k\na', 'b')?.client, ledger.size]).toEqual([undefined, 'k\na', 1])
  })

  it('counts a resend of a batch still queued as a duplicate', () => {
    const ledger = new Ledger(options)
    admit(ledger, '1')
    expect(admit(ledger, '1', 'c', 10, 2)).toBe('duplicate')
    expect(ledger.queued).toBe(1)
  })

  it('runs a resend of a held batch again, on another worker, never on the one holding it, with the higher attempt', () => {
    const ledger = new Ledger(options)
    const [w1, w2] = [new FakeWorker('w1', 4), new FakeWorker('w2', 4)]
    const workers = new Workers(w1)
    admit(ledger, '1')
    expect(dispatch(ledger, workers)).toEqual(['w1:c/1@1'])
    expect(admit(ledger, '1', 'c', 10, 2)).toBe('speculative')
    // w1 has room, but holds a copy: the second run waits.
    expect(dispatch(ledger, workers)).toEqual([])
    expect(ledger.secondRunsWaiting).toBe(1)
    expect(admit(ledger, '1', 'c', 10, 3)).toBe('duplicate')
    workers.offer(w2)
    expect(dispatch(ledger, workers)).toEqual(['w2:c/1@2'])
    expect([ledger.secondRunsWaiting, ledger.size]).toEqual([0, 1])
  })

  it('keeps the copies running at once within maxAttempts', () => {
    const ledger = new Ledger({ ...options, maxAttempts: 2 })
    const workers = new Workers(new FakeWorker('w1', 4), new FakeWorker('w2', 4), new FakeWorker('w3', 4))
    admit(ledger, '1')
    dispatch(ledger, workers)
    expect(admit(ledger, '1')).toBe('speculative')
    expect(dispatch(ledger, workers)).toHaveLength(1)
    expect(admit(ledger, '1')).toBe('duplicate')
  })

  it('sets aside a queued batch that every free worker holds a copy of, so the client\'s next batch is not held up', () => {
    const ledger = new Ledger(options)
    const [w1, w2] = [new FakeWorker('w1', 2), new FakeWorker('w2', 1)]
    const workers = new Workers(w1, w2)
    admit(ledger, '1')
    dispatch(ledger, workers)
    admit(ledger, '1') // speculative: runs on w2, which finishes first
    dispatch(ledger, workers)
    expect(ledger.done(w2, 'c', '1', 5)).toBe('completed')
    // The client reuses the id (its batch completed); only w1, still running the old copy, is free.
    admit(ledger, '1')
    admit(ledger, '2')
    expect(dispatch(ledger, new Workers(w1))).toEqual(['w1:c/2@1'])
    expect(ledger.secondRunsWaiting).toBe(1)
    expect(ledger.done(w1, 'c', '1', 6)).toBe('freed')
    expect(dispatch(ledger, new Workers(w1))).toEqual(['w1:c/1@1'])
  })
})

describe('a ledger told that a worker finished a batch', () => {
  it('completes it on the first run to finish, and only frees the worker of a later copy', () => {
    const ledger = new Ledger(options)
    const [w1, w2] = [new FakeWorker('w1', 1), new FakeWorker('w2', 1)]
    const workers = new Workers(w1, w2)
    admit(ledger, '1')
    dispatch(ledger, workers)
    admit(ledger, '1')
    dispatch(ledger, workers)
    expect(ledger.done(w2, 'c', '1', 1)).toBe('completed')
    expect(ledger.find('c', '1')).toBeUndefined()
    expect(ledger.done(w1, 'c', '1', 2)).toBe('freed')
    expect([ledger.size, ledger.heldBytes]).toEqual([0, 0])
  })

  it('ignores a done for a batch the worker does not hold', () => {
    const ledger = new Ledger(options)
    const w = new FakeWorker('w', 1)
    admit(ledger, '1')
    dispatch(ledger, new Workers(w))
    expect(ledger.done(w, 'other', '1', 1)).toBeUndefined()
    expect(ledger.done(new FakeWorker('x', 1), 'c', '1', 1)).toBeUndefined()
    expect(ledger.size).toBe(1)
  })

  it('knows which batch a worker has held longest, and when it became empty-handed', () => {
    const ledger = new Ledger(options)
    const w = new FakeWorker('w', 4)
    admit(ledger, '1')
    dispatch(ledger, new Workers(w), 100)
    admit(ledger, '2')
    dispatch(ledger, new Workers(w), 200)
    expect([w.held.oldestSince, w.free]).toEqual([100, 2])
    expect(ledger.done(w, 'c', '1', 300)).toBe('completed')
    expect(ledger.done(w, 'c', '1', 300)).toBeUndefined()
    expect([w.held.oldestSince, w.held.idleSince]).toEqual([200, 0])
    ledger.done(w, 'c', '2', 400)
    expect([w.held.oldestSince, w.held.idleSince]).toEqual([undefined, 400])
  })
})

describe('a ledger given back what a worker held', () => {
  function holding(ids: string[], ledgerOptions: Partial<LedgerOptions> = {}, aborted = (_: string) => false) {
    const ledger = new Ledger({ ...options, ...ledgerOptions }, aborted)
    const w = new FakeWorker('w', 10)
    for (const id of ids) admit(ledger, id)
    dispatch(ledger, new Workers(w))
    return { ledger, w }
  }

  it('after a loss, puts it back at the front of the queue, in hand-over order, with attempt + 1', () => {
    const { ledger, w } = holding(['1', '2'])
    admit(ledger, '3')
    expect(ledger.giveBack(w, 'lost', 10)).toEqual({ requeued: 2, ended: [] })
    expect([w.held.size, w.held.idleSince]).toEqual([0, 10])
    expect(dispatch(ledger, new Workers(new FakeWorker('v', 10)))).toEqual(['v:c/1@2', 'v:c/2@2', 'v:c/3@1'])
  })

  it('ends a batch attempts-exhausted once losses used up its maxAttempts runs: a poison batch still ends', () => {
    const { ledger, w } = holding(['1'], { maxAttempts: 2 })
    expect(ledger.giveBack(w, 'lost', 1).requeued).toBe(1)
    dispatch(ledger, new Workers(w))
    const { requeued, ended } = ledger.giveBack(w, 'lost', 2)
    expect([requeued, ended.map((e) => `${e.batch.id}:${e.reason}`)]).toEqual([0, ['1:attempts-exhausted']])
    expect(ledger.size).toBe(0)
  })

  it('after a new session, counts no run however often (the worker is at fault), but the attempt goes up, capped at the protocol bound', () => {
    const ledger = new Ledger({ ...options, maxAttempts: 1 })
    const w = new FakeWorker('w', 1)
    ledger.admit(header('1', 'c', Limits.maxCounter - 1), Buffer.alloc(1), 1, 0)
    for (let n = 0; n < 5; n++) {
      dispatch(ledger, new Workers(w))
      expect(ledger.giveBack(w, 'new-session', n)).toEqual({ requeued: 1, ended: [] })
    }
    expect(dispatch(ledger, new Workers(w))).toEqual([`w:c/1@${Limits.maxCounter}`])
  })

  it('after a bye, counts no run and keeps the attempt: the worker never ran it', () => {
    const { ledger, w } = holding(['1'], { maxAttempts: 1 })
    expect(ledger.giveBack(w, 'bye', 1)).toEqual({ requeued: 1, ended: [] })
    expect(dispatch(ledger, new Workers(w))).toEqual(['w:c/1@1'])
  })

  it('lets be a batch that another worker still runs, or that finished elsewhere', () => {
    const ledger = new Ledger(options)
    const [w1, w2, w3] = [new FakeWorker('w1', 2), new FakeWorker('w2', 2), new FakeWorker('w3', 2)]
    admit(ledger, 'running')
    admit(ledger, 'finished')
    dispatch(ledger, new Workers(w1))
    admit(ledger, 'running')
    admit(ledger, 'finished')
    dispatch(ledger, new Workers(w2))
    ledger.done(w2, 'c', 'finished', 1)
    expect(ledger.giveBack(w1, 'lost', 2)).toEqual({ requeued: 0, ended: [] })
    expect([ledger.queued, ledger.size]).toEqual([0, 1])
    expect(ledger.done(w2, 'c', 'running', 3)).toBe('completed')
    expect(dispatch(ledger, new Workers(w3))).toEqual([])
  })

  it('leaves a batch whose second run already waits where it waits: it is not queued twice', () => {
    const { ledger, w } = holding(['1'])
    expect(admit(ledger, '1')).toBe('speculative')
    expect(ledger.giveBack(w, 'lost', 1)).toEqual({ requeued: 0, ended: [] })
    expect([ledger.queued, ledger.secondRunsWaiting]).toEqual([0, 1])
    expect(dispatch(ledger, new Workers(new FakeWorker('v', 1)))).toEqual(['v:c/1@2'])
  })

  it('ends the batches of an aborted client instead of running them again', () => {
    const { ledger, w } = holding(['1'], {}, (client) => client === 'c')
    const { ended } = ledger.giveBack(w, 'lost', 1)
    expect(ended.map((e) => e.reason)).toEqual(['aborted'])
    expect(ledger.size).toBe(0)
  })
})

describe('a ledger dropping a client (its abort)', () => {
  it('drops its queued batches and waiting second runs, and keeps a held one inside until that run ends', () => {
    const ledger = new Ledger(options)
    const w = new FakeWorker('w', 1)
    admit(ledger, 'held', 'a')
    dispatch(ledger, new Workers(w))
    admit(ledger, 'held', 'a') // a second run waits: w is full
    admit(ledger, 'q1', 'a')
    admit(ledger, 'q2', 'a')
    admit(ledger, 'other', 'b')
    expect(ledger.dropClient('a')).toBe(2)
    expect([ledger.queued, ledger.secondRunsWaiting, ledger.size]).toEqual([1, 0, 2])
    expect(ledger.done(w, 'a', 'held', 1)).toBe('completed')
    expect(ledger.size).toBe(1)
  })
})

describe('a ledger at shutdown', () => {
  it('hands back everything waiting, keeps what workers hold, and ends all that comes back shutting-down', () => {
    const ledger = new Ledger(options)
    const w = new FakeWorker('w', 1)
    admit(ledger, '1')
    dispatch(ledger, new Workers(w))
    admit(ledger, '1') // second run of a held batch: answered by the run going on
    admit(ledger, '2')
    expect(ledger.close().map((b) => b.id)).toEqual(['2'])
    expect([ledger.queued, ledger.secondRunsWaiting, ledger.size]).toEqual([0, 0, 1])
    expect(ledger.giveBack(w, 'new-session', 1).ended.map((e) => `${e.batch.id}:${e.reason}`)).toEqual(['1:shutting-down'])
    expect(ledger.size).toBe(0)
  })
})

describe('a ledger\'s byte bound', () => {
  it('counts queued, held and second-run bytes, and wakes the intake once a worker frees enough', async () => {
    const ledger = new Ledger({ ...options, queueBytes: 100 })
    const [w1, w2] = [new FakeWorker('w1', 1), new FakeWorker('w2', 1)]
    admit(ledger, '1', 'c', 40)
    dispatch(ledger, new Workers(w1))
    expect([ledger.queuedBytes, ledger.heldBytes, ledger.isFull]).toEqual([0, 40, false])
    admit(ledger, '1', 'c', 40) // a second run: its copy counts as well
    admit(ledger, '2', 'c', 20)
    expect([ledger.queuedBytes, ledger.heldBytes, ledger.isFull]).toEqual([20, 80, true])
    let woken = false
    void ledger.whenNotFull().then(() => (woken = true))
    dispatch(ledger, new Workers(w2)) // the second run goes to w2; '2' still waits
    await Promise.resolve()
    expect([woken, ledger.isFull]).toEqual([false, true])
    ledger.done(w2, 'c', '1', 1)
    await Promise.resolve()
    expect([woken, ledger.isFull, ledger.heldBytes, ledger.queuedBytes]).toEqual([true, false, 40, 20])
  })

  it('is full at queueLimit batches', () => {
    const ledger = new Ledger({ ...options, queueLimit: 2 })
    admit(ledger, '1')
    expect(ledger.isFull).toBe(false)
    admit(ledger, '2')
    expect(ledger.isFull).toBe(true)
  })
})
