/**
 * The worker's batch runner (BatchRunner): the outcome each command gets, its
 * time limit, the fair order and a forced stop. Time limits run on a fake
 * timer port that the test steps; executors are played by hand.
 */
import { describe, expect, it } from 'vitest'
import { BatchRunner, PARKED_SCOPES, SCOPE_REUSES, type HeldBatch } from '../../src/worker/batch-runner.js'
import { encode } from '../../src/protocol/codec.js'
import { UnknownCommandError } from '../../src/errors.js'
import { FakeTimers, settle } from '../helpers/fake-timers.js'
import type { Executor } from '../../src/executors/types.js'
import type { CommandOutcome, TaskHeader } from '../../src/protocol/types.js'

const header = (id: string, client = 'c'): TaskHeader => ({ v: 1, type: 'task', id, client, replyTo: 'tcp://127.0.0.1:1', attempt: 1 })

/** A runner on `executor`; `take` hands it a batch of `addresses` (command `foo`). */
function bench(executor: Executor, options: { concurrency?: number; commandTimeoutMs?: number; maxBatch?: number } = {}) {
  const timers = new FakeTimers()
  const settled: { id: string; outcomes: CommandOutcome[] }[] = []
  const runner = new BatchRunner({
    executor,
    concurrency: options.concurrency ?? 8,
    commandTimeoutMs: options.commandTimeoutMs ?? 0,
    maxBatch: options.maxBatch ?? 100,
    timers,
    onSettled: (batch) => settled.push({ id: batch.header.id, outcomes: [...batch.outcomes] }),
  })
  const take = (id: string, addresses: string[], client = 'c'): HeldBatch => {
    const batch = runner.decode(header(id, client), encode(addresses.map((a) => [a, 'foo'])), 1)
    if (typeof batch === 'string') throw new Error(batch)
    runner.start(batch)
    return batch
  }
  const outcomesOf = (id: string): CommandOutcome[] | undefined => settled.find((s) => s.id === id)?.outcomes
  return { runner, timers, settled, take, outcomesOf }
}

/** An executor whose commands run until the test ends them, or their signal aborts them. */
function handExecutor() {
  const started: string[] = []
  const running = new Map<string, { resolve: (value: unknown) => void; reject: (error: unknown) => void; signal: AbortSignal }>()
  const executor: Executor = (address, _command, signal) =>
    new Promise((resolve, reject) => {
      started.push(address)
      running.set(address, { resolve, reject, signal })
      signal.addEventListener('abort', () => reject(signal.reason), { once: true })
    })
  return { started, running, executor }
}

describe('the outcome of each command', () => {
  it('is code 0 with the value, 1 for an unknown command, 2 with the message of any other failure', async () => {
    const executor: Executor = async (address) => {
      if (address === 'ok') return { up: true }
      if (address === 'unknown') throw new UnknownCommandError(address, 'foo')
      throw new Error('device said no')
    }
    const { take, outcomesOf } = bench(executor)
    take('b', ['ok', 'unknown', 'broken'])
    await settle()
    expect(outcomesOf('b')).toEqual([[0, { up: true }], [1, null], [2, 'device said no']])
  })

  it('is code 2 when the executor throws instead of returning a promise, and the slot is given back', async () => {
    const executor = ((address: string) => {
      if (address === 'throws') throw new Error('boom')
      return Promise.resolve(7)
    }) as Executor
    const { runner, take, outcomesOf } = bench(executor, { concurrency: 1 })
    take('b', ['throws', 'next'])
    await settle()
    expect(outcomesOf('b')).toEqual([[2, 'boom'], [0, 7]])
    expect(runner.running).toBe(0)
  })

  it('is code 0 when the executor returns a plain value, and the slot does not stay taken', async () => {
    const executor = ((address: string) => (address === 'plain' ? 42 : Promise.resolve(1))) as unknown as Executor
    for (const commandTimeoutMs of [0, 1000]) {
      const { runner, take, outcomesOf } = bench(executor, { concurrency: 1, commandTimeoutMs })
      take('b', ['plain', 'plain', 'promise'])
      await settle()
      expect(outcomesOf('b')).toEqual([[0, 42], [0, 42], [0, 1]])
      expect([runner.running, runner.queued, runner.unsettled]).toEqual([0, 0, 0])
    }
  })

  it('hands the batch on once, when its last command has its outcome', async () => {
    const { running, executor } = handExecutor()
    const { take, settled } = bench(executor)
    take('b', ['10.0.0.1', '10.0.0.2'])
    await settle()
    running.get('10.0.0.2')!.resolve(2)
    await settle()
    expect(settled).toEqual([])
    running.get('10.0.0.1')!.resolve(1)
    await settle()
    expect(settled).toEqual([{ id: 'b', outcomes: [[0, 1], [0, 2]] }])
  })
})

describe('a command under a time limit', () => {
  it('is cancelled through its signal and reported as code 3 when the limit passes, not a millisecond before', async () => {
    const { running, executor } = handExecutor()
    const { timers, take, outcomesOf } = bench(executor, { commandTimeoutMs: 100 })
    take('b', ['10.0.0.1'])
    await timers.advance(99)
    expect(outcomesOf('b')).toBeUndefined()
    expect(running.get('10.0.0.1')!.signal.aborted).toBe(false)
    await timers.advance(1)
    // The executor rejects as soon as its signal fires; that is still a timeout, not a failure.
    expect(outcomesOf('b')).toEqual([[3, null]])
    expect(running.get('10.0.0.1')!.signal.reason).toMatchObject({ message: 'command timed out after 100 ms' })
  })

  it('is reported as code 3 even when the executor ignores its signal and never ends', async () => {
    const executor: Executor = () => new Promise(() => undefined)
    const { runner, timers, take, outcomesOf } = bench(executor, { commandTimeoutMs: 50 })
    take('b', ['10.0.0.1'])
    await timers.advance(50)
    expect(outcomesOf('b')).toEqual([[3, null]])
    expect(runner.running).toBe(0)
  })

  it('leaves no timer behind when it ends in time', async () => {
    const { running, executor } = handExecutor()
    const { timers, take, outcomesOf } = bench(executor, { commandTimeoutMs: 100 })
    take('b', ['10.0.0.1'])
    await timers.advance(60)
    running.get('10.0.0.1')!.resolve('in time')
    await settle()
    expect(outcomesOf('b')).toEqual([[0, 'in time']])
    expect(timers.count).toBe(0)
  })

  it('gets its limit from its own start, also when it waited for a slot', async () => {
    const { started, executor } = handExecutor()
    const { timers, take, outcomesOf } = bench(executor, { concurrency: 1, commandTimeoutMs: 100 })
    take('b', ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
    await timers.advance(100)
    expect(started).toEqual(['10.0.0.1', '10.0.0.2'])
    await timers.advance(199)
    expect(outcomesOf('b')).toBeUndefined()
    await timers.advance(1)
    expect(timers.now).toBe(300)
    expect(outcomesOf('b')).toEqual([[3, null], [3, null], [3, null]])
  })
})

describe('commands beyond the concurrency', () => {
  it("start round-robin across clients, then across each client's batches", async () => {
    const { started, running, executor } = handExecutor()
    const { take } = bench(executor, { concurrency: 1 })
    take('a1', ['a1:0', 'a1:1'], 'A')
    take('a2', ['a2:0', 'a2:1'], 'A')
    take('b1', ['b1:0', 'b1:1'], 'B')
    for (let n = 0; n < 6; n++) {
      await settle()
      running.get(started.at(-1)!)!.resolve(1)
    }
    await settle()
    expect(started).toEqual(['a1:0', 'b1:0', 'a2:0', 'b1:1', 'a1:1', 'a2:1'])
  })
})

/** An executor whose commands ignore their signal: they end only when the test ends them. */
function deafExecutor() {
  const started: string[] = []
  const running = new Map<string, { resolve: (value: unknown) => void; signal: AbortSignal }>()
  const executor: Executor = (address, _command, signal) =>
    new Promise((resolve) => {
      started.push(address)
      running.set(address, { resolve, signal })
    })
  return { started, running, executor }
}

describe("the gateway's cancel for a client", () => {
  it('settles its running and its waiting commands code 4 at once, and the waiting ones never start', async () => {
    const { started, running, executor } = handExecutor()
    const { runner, take, outcomesOf } = bench(executor, { concurrency: 2 })
    take('a', ['10.0.0.1', '10.0.0.2', '10.0.0.3'], 'A')
    take('a2', ['10.0.0.4'], 'A')
    await settle()
    expect(started).toEqual(['10.0.0.1', '10.0.0.2'])
    runner.cancel('A')
    // Synchronously: no executor has to end first.
    expect(outcomesOf('a')).toEqual([[4, null], [4, null], [4, null]])
    expect(outcomesOf('a2')).toEqual([[4, null]])
    expect(running.get('10.0.0.1')!.signal.aborted).toBe(true)
    expect(running.get('10.0.0.1')!.signal.reason).toMatchObject({ message: "command cancelled by its client's abort" })
    await settle()
    expect(started).toEqual(['10.0.0.1', '10.0.0.2'])
    expect([runner.running, runner.queued, runner.unsettled]).toEqual([0, 0, 0])
  })

  it('keeps the outcomes its commands had before the cancel', async () => {
    const { running, executor } = handExecutor()
    const { runner, take, outcomesOf } = bench(executor)
    take('a', ['10.0.0.1', '10.0.0.2'], 'A')
    await settle()
    running.get('10.0.0.1')!.resolve(7)
    await settle()
    runner.cancel('A')
    expect(outcomesOf('a')).toEqual([[0, 7], [4, null]])
  })

  it("leaves other clients' commands alone, running or waiting, and hands them the cancelled commands' slots", async () => {
    const { started, running, executor } = handExecutor()
    const { runner, take, outcomesOf } = bench(executor, { concurrency: 2 })
    take('a', ['a:1', 'a:2'], 'A')
    take('b', ['b:1', 'b:2'], 'B')
    await settle()
    expect(started).toEqual(['a:1', 'a:2'])
    runner.cancel('A')
    // The two freed slots went to B at once, without waiting for A's executors to end.
    expect(started).toEqual(['a:1', 'a:2', 'b:1', 'b:2'])
    expect(running.get('b:1')!.signal.aborted).toBe(false)
    running.get('b:1')!.resolve(1)
    running.get('b:2')!.resolve(2)
    await settle()
    expect(outcomesOf('b')).toEqual([[0, 1], [0, 2]])
    expect(outcomesOf('a')).toEqual([[4, null], [4, null]])
  })

  it('does not wait for an executor that ignores its signal, and ignores its late value, counted once', async () => {
    const { started, running, executor } = deafExecutor()
    const { runner, take, settled, outcomesOf } = bench(executor, { concurrency: 1 })
    take('a', ['a:1'], 'A')
    take('b', ['b:1'], 'B')
    take('c', ['c:1'], 'C')
    await settle()
    const idle = runner.idle()
    runner.cancel('A')
    expect(outcomesOf('a')).toEqual([[4, null]])
    // A's slot went to the next in turn (C, which joined last, as FairSlots orders) at once;
    // A's executor still runs, outside the concurrency.
    expect(started).toEqual(['a:1', 'c:1'])
    expect([runner.running, runner.unsettled]).toEqual([1, 2])
    running.get('a:1')!.resolve('late')
    await settle()
    // Its end frees no second slot: B still waits for C's.
    expect(started).toEqual(['a:1', 'c:1'])
    expect(settled.map((s) => s.id)).toEqual(['a'])
    expect(outcomesOf('a')).toEqual([[4, null]])
    expect([runner.running, runner.queued, runner.unsettled]).toEqual([1, 1, 2])
    running.get('c:1')!.resolve('c')
    await settle()
    expect(started).toEqual(['a:1', 'c:1', 'b:1'])
    running.get('b:1')!.resolve('b')
    await idle
    await settle()
    expect(settled.map((s) => [s.id, s.outcomes])).toEqual([['a', [[4, null]]], ['c', [[0, 'c']]], ['b', [[0, 'b']]]])
    expect([runner.running, runner.queued, runner.unsettled]).toEqual([0, 0, 0])
  })

  it('under a time limit also settles code 4 at once, and the limit passing later changes nothing', async () => {
    const { running, executor } = deafExecutor()
    const { runner, timers, take, settled, outcomesOf } = bench(executor, { commandTimeoutMs: 1000 })
    take('a', ['a:1', 'a:2'], 'A')
    await timers.advance(10)
    runner.cancel('A')
    expect(outcomesOf('a')).toEqual([[4, null], [4, null]])
    expect(running.get('a:1')!.signal.reason).toMatchObject({ message: "command cancelled by its client's abort" })
    expect([runner.running, runner.unsettled]).toEqual([0, 0])
    await timers.advance(990)
    expect(settled).toHaveLength(1)
    expect(outcomesOf('a')).toEqual([[4, null], [4, null]])
    expect(timers.count).toBe(0)
  })

  it('under a time limit, with an executor that honours its signal, leaves no timer behind', async () => {
    const { executor } = handExecutor()
    const { runner, timers, take, outcomesOf } = bench(executor, { commandTimeoutMs: 1000 })
    take('a', ['a:1'], 'A')
    await settle()
    runner.cancel('A')
    await settle()
    expect(outcomesOf('a')).toEqual([[4, null]])
    expect(timers.count).toBe(0)
  })

  it('lets idle() resolve without the executors ending', async () => {
    const { executor } = deafExecutor()
    const { runner, take } = bench(executor, { concurrency: 1 })
    take('a', ['a:1', 'a:2', 'a:3'], 'A')
    await settle()
    let idle = false
    void runner.idle().then(() => (idle = true))
    await settle()
    expect(idle).toBe(false)
    runner.cancel('A')
    await settle()
    expect(idle).toBe(true)
  })

  it("runs the client's batches that arrive after the cancel as usual", async () => {
    const { running, executor } = handExecutor()
    const { runner, take, outcomesOf } = bench(executor)
    take('a1', ['10.0.0.1'], 'A')
    await settle()
    runner.cancel('A')
    take('a2', ['10.0.0.2'], 'A')
    await settle()
    expect(running.get('10.0.0.2')!.signal.aborted).toBe(false)
    running.get('10.0.0.2')!.resolve(2)
    await settle()
    expect(outcomesOf('a1')).toEqual([[4, null]])
    expect(outcomesOf('a2')).toEqual([[0, 2]])
  })

  it('is a no-op for a client it holds nothing of', async () => {
    const { running, executor } = handExecutor()
    const { runner, take, settled } = bench(executor)
    take('b', ['10.0.0.1'], 'B')
    await settle()
    runner.cancel('nobody')
    expect([settled, runner.running, runner.unsettled, runner.clients]).toEqual([[], 1, 1, 1])
    expect(running.get('10.0.0.1')!.signal.aborted).toBe(false)
  })

  it('is a no-op for a client whose batches have all settled', async () => {
    const { runner, take, settled } = bench(() => Promise.resolve(1))
    take('a', ['10.0.0.1'], 'A')
    await settle()
    runner.cancel('A')
    expect(settled).toEqual([{ id: 'a', outcomes: [[0, 1]] }])
  })

  it("still lets a forced stop end what runs after it, and the client's scope is dropped", async () => {
    const { running, executor } = deafExecutor()
    const { runner, take, settled } = bench(executor)
    take('a', ['a:1'], 'A')
    take('b', ['b:1'], 'B')
    await settle()
    runner.cancel('A')
    expect(runner.clients).toBe(1)
    runner.abort()
    expect(running.get('b:1')!.signal.aborted).toBe(true)
    running.get('a:1')!.resolve('late')
    running.get('b:1')!.resolve('b')
    await runner.idle()
    expect(settled.map((s) => s.id)).toEqual(['a', 'b'])
    expect(runner.clients).toBe(0)
  })
})

describe("a client's scope (memory)", () => {
  it('lives while the client has a batch held, and is dropped when its last batch settles', async () => {
    const { running, executor } = handExecutor()
    const { runner, take } = bench(executor)
    const first = take('a1', ['10.0.0.1'], 'A')
    const second = take('a2', ['10.0.0.2'], 'A')
    await settle()
    expect(runner.clients).toBe(1)
    expect(first.scope).toBe(second.scope)
    running.get('10.0.0.1')!.resolve(1)
    await settle()
    expect(runner.clients).toBe(1)
    running.get('10.0.0.2')!.resolve(2)
    await settle()
    expect(runner.clients).toBe(0)
  })

  it('is dropped by a cancel, and a later batch of the client gets a fresh one', async () => {
    const { executor } = handExecutor()
    const { runner, take } = bench(executor)
    const before = take('a1', ['10.0.0.1'], 'A')
    await settle()
    runner.cancel('A')
    expect(runner.clients).toBe(0)
    const after = take('a2', ['10.0.0.2'], 'A')
    expect(after.scope).not.toBe(before.scope)
    expect(after.scope!.signal.aborted).toBe(false)
    expect(before.scope!.batches.size).toBe(0)
  })

  it("is kept, unaborted, for the client's next batch once its last one settled, without counting as held meanwhile", async () => {
    const { runner, take } = bench(() => Promise.resolve(1))
    const first = take('a1', ['10.0.0.1'], 'A')
    await settle()
    expect(runner.clients).toBe(0)
    // A cancel with nothing held is still a no-op: it aborts no kept scope.
    runner.cancel('A')
    const second = take('a2', ['10.0.0.2'], 'A')
    expect(second.scope).toBe(first.scope)
    expect(second.scope!.signal.aborted).toBe(false)
    expect(runner.clients).toBe(1)
    await settle()
    expect(take('b1', ['10.0.0.3'], 'B').scope).not.toBe(first.scope)
  })

  it('serves at most SCOPE_REUSES batches, then its client gets a fresh one', async () => {
    const { take } = bench(() => Promise.resolve(1))
    const scopes = new Set<unknown>()
    for (let i = 0; i <= SCOPE_REUSES; i++) {
      scopes.add(take(`a${i}`, ['10.0.0.1'], 'A').scope)
      await settle()
    }
    expect(scopes.size).toBe(2)
  })

  it('is kept for at most PARKED_SCOPES clients, the oldest going first', async () => {
    const { take } = bench(() => Promise.resolve(1))
    const first = new Map<string, unknown>()
    for (let c = 0; c <= PARKED_SCOPES; c++) first.set(`C${c}`, take(`x${c}`, ['10.0.0.1'], `C${c}`).scope)
    await settle()
    // C0 settled first and was pushed out by the last one; C1 is still kept.
    expect(take('y0', ['10.0.0.1'], 'C0').scope).not.toBe(first.get('C0'))
    expect(take('y1', ['10.0.0.1'], 'C1').scope).toBe(first.get('C1'))
  })

  it('is not kept after a forced stop', async () => {
    const { runner, take } = bench(() => Promise.resolve(1))
    const before = take('a1', ['10.0.0.1'], 'A')
    await settle()
    runner.abort()
    expect(take('a2', ['10.0.0.2'], 'A').scope).not.toBe(before.scope)
  })

  it('gives every command of one client the same signal when no time limit is set', async () => {
    const { running, executor } = handExecutor()
    const { take } = bench(executor)
    take('a1', ['10.0.0.1'], 'A')
    take('a2', ['10.0.0.2'], 'A')
    take('b', ['10.0.0.3'], 'B')
    await settle()
    expect(running.get('10.0.0.1')!.signal).toBe(running.get('10.0.0.2')!.signal)
    expect(running.get('10.0.0.1')!.signal).not.toBe(running.get('10.0.0.3')!.signal)
  })
})

describe('a slot', () => {
  it('is given back even when onSettled throws, which it must not', async () => {
    let calls = 0
    const runner = new BatchRunner({
      executor: () => Promise.resolve(1),
      concurrency: 1,
      commandTimeoutMs: 0,
      maxBatch: 10,
      onSettled: () => {
        calls++
        throw new Error('a listener that throws')
      },
    })
    for (const id of ['a', 'b']) {
      const batch = runner.decode(header(id), encode([['10.0.0.1', 'foo']]), 1)
      if (typeof batch === 'string') throw new Error(batch)
      runner.start(batch)
    }
    await settle()
    // With one slot, b ran only because a's slot came back.
    expect([calls, runner.running, runner.queued]).toEqual([2, 0, 0])
  })
})

describe('a forced stop', () => {
  it('aborts the running commands, starts none of the waiting ones, and gives every command an outcome', async () => {
    const { started, executor } = handExecutor()
    const { runner, take, outcomesOf } = bench(executor, { concurrency: 2, commandTimeoutMs: 1000 })
    take('a', ['10.0.0.1', '10.0.0.2', '10.0.0.3'], 'A')
    take('b', ['10.0.1.1'], 'B')
    await settle()
    expect(runner.unsettled).toBe(4)
    const idle = runner.idle()
    runner.abort()
    await idle
    // Two free slots took a's first two commands; a's third and b's only one were waiting.
    expect(started).toEqual(['10.0.0.1', '10.0.0.2'])
    expect(outcomesOf('a')?.map((o) => o[0])).toEqual([2, 2, 2])
    expect(outcomesOf('b')?.map((o) => o[0])).toEqual([2])
    expect(runner.unsettled).toBe(0)
  })
})

describe('a task body', () => {
  it('is refused with a reason, before anything runs, when it is missing, not command pairs, or over maxBatch', () => {
    const { runner, settled } = bench(() => Promise.resolve(1), { maxBatch: 2 })
    const reasons = [
      runner.decode(header('1'), undefined, 1),
      runner.decode(header('2'), encode({ not: 'pairs' }), 1),
      runner.decode(header('3'), encode([['a', 'foo'], ['b', 'foo'], ['c', 'foo']]), 1),
      runner.decode(header('4'), encode([]), 1),
    ]
    for (const reason of reasons) expect(typeof reason).toBe('string')
    expect(reasons[0]).toBe('no body frame')
    expect(settled).toEqual([])
    expect(runner.unsettled).toBe(0)
  })

  it('becomes a batch that remembers the session it came in', () => {
    const { runner } = bench(() => Promise.resolve(1))
    const batch = runner.decode(header('1'), encode([['a', 'foo']]), 7)
    expect(batch).toMatchObject({ commands: 1, session: 7, pairs: [['a', 'foo']] })
  })
})
