/**
 * The slot seam between the batch runner and an executor that sets
 * `usesSlots` (CommandControl): a command that waits on the executor's own
 * limits gives its worker slot back (`yieldSlot`) and queues for one again
 * (`resume`) in the fair order. Its time limit, its client's cancel and a
 * forced stop still settle it at once, and no slot leaks. Time runs on a fake
 * timer port; the executor is played by hand: an address starting with `y`
 * yields as soon as it is called, until the test lets it go on.
 */
import { describe, expect, it } from 'vitest'
import { BatchRunner, type HeldBatch } from '../../src/worker/batch-runner.js'
import { encode } from '../../src/protocol/codec.js'
import type { CommandControl, Executor } from '../../src/executors/types.js'
import type { CommandOutcome, TaskHeader } from '../../src/protocol/types.js'
import { FakeTimers, settle } from '../helpers/fake-timers.js'

const header = (id: string, client: string): TaskHeader => ({ v: 1, type: 'task', id, client, replyTo: 'tcp://127.0.0.1:1', attempt: 1 })

interface Call {
  readonly signal: AbortSignal
  readonly control: CommandControl | undefined
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
}

/**
 * `ran`: the commands in the order they began their work holding a slot (a
 * `y` command once its resume resolved). `go(address)` lets a yielded command
 * resume. With `deaf`, commands ignore their signal.
 */
function yieldingExecutor({ deaf = false } = {}) {
  const calls = new Map<string, Call>()
  const ran: string[] = []
  const executor: Executor = (address, _command, signal, control) =>
    new Promise((resolve, reject) => {
      calls.set(address, { signal, control, resolve, reject })
      if (!deaf) signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      if (address.startsWith('y')) control!.yieldSlot()
      else ran.push(address)
    })
  executor.usesSlots = true
  const resumed = new Map<string, Promise<unknown>>()
  const go = (address: string): Promise<unknown> => {
    const call = calls.get(address)!
    const resuming = call.control!.resume().then(
      () => void ran.push(address),
      (error: unknown) => {
        call.reject(error)
        return error
      },
    )
    resumed.set(address, resuming)
    return resuming
  }
  return { calls, ran, executor, go, resumed }
}

function bench(executor: Executor, options: { concurrency?: number; commandTimeoutMs?: number; maxBatch?: number } = {}) {
  const timers = new FakeTimers()
  const settled: { id: string; outcomes: CommandOutcome[] }[] = []
  const runner = new BatchRunner({
    executor,
    concurrency: options.concurrency ?? 1,
    commandTimeoutMs: options.commandTimeoutMs ?? 0,
    maxBatch: options.maxBatch ?? 100,
    timers,
    onSettled: (batch) => settled.push({ id: batch.header.id, outcomes: [...batch.outcomes] }),
  })
  const take = (id: string, addresses: string[], client: string): HeldBatch => {
    const batch = runner.decode(header(id, client), encode(addresses.map((a) => [a, 'foo'])), 1)
    if (typeof batch === 'string') throw new Error(batch)
    runner.start(batch)
    return batch
  }
  const outcomesOf = (id: string): CommandOutcome[] | undefined => settled.find((s) => s.id === id)?.outcomes
  const counts = (): [number, number, number] => [runner.running, runner.queued, runner.unsettled]
  return { runner, timers, take, outcomesOf, counts }
}

describe('the control an executor gets', () => {
  it('is given only to an executor that sets usesSlots, one per command', async () => {
    const seen: unknown[][] = []
    const plain: Executor = (...args: unknown[]) => (seen.push(args), Promise.resolve(1))
    const first = bench(plain, { concurrency: 4 })
    first.take('p', ['10.0.0.1'], 'A')
    await settle()
    expect(seen[0]).toHaveLength(3)
    const flagged: Executor = (...args: unknown[]) => (seen.push(args), Promise.resolve(1))
    flagged.usesSlots = true
    const second = bench(flagged, { concurrency: 4 })
    second.take('f', ['10.0.0.1', '10.0.0.2'], 'A')
    await settle()
    const one = seen[1]![3] as CommandControl
    const two = seen[2]![3] as CommandControl
    expect(typeof one.yieldSlot).toBe('function')
    expect(one).not.toBe(two)
    expect(second.outcomesOf('f')).toEqual([[0, 1], [0, 1]])
    expect(second.counts()).toEqual([0, 0, 0])
  })

  it('resolves resume at once, keeping the slot, when the slot was not given back', async () => {
    const calls: CommandControl[] = []
    const executor: Executor = (_address, _command, _signal, control) => (calls.push(control!), new Promise(() => undefined))
    executor.usesSlots = true
    const { take, counts } = bench(executor)
    take('a', ['10.0.0.1', '10.0.0.2'], 'A')
    await settle()
    await calls[0]!.resume()
    expect(calls).toHaveLength(1)
    expect(counts()).toEqual([1, 1, 2])
  })
})

describe('a command that gives its slot back', () => {
  it('lets the next waiting command start in it at once, and holds no slot until it resumes', async () => {
    const { ran, calls, executor, go } = yieldingExecutor()
    const { take, counts, outcomesOf } = bench(executor)
    take('a', ['y1'], 'A')
    take('b', ['b1'], 'B')
    await settle()
    expect(ran).toEqual(['b1'])
    expect(counts()).toEqual([1, 0, 2])
    void go('y1')
    await settle()
    // Waits for b1's slot, in the queue.
    expect(ran).toEqual(['b1'])
    expect(counts()).toEqual([1, 1, 2])
    calls.get('b1')!.resolve('b')
    await settle()
    expect(ran).toEqual(['b1', 'y1'])
    expect(counts()).toEqual([1, 0, 1])
    calls.get('y1')!.resolve('y')
    await settle()
    expect(outcomesOf('a')).toEqual([[0, 'y']])
    expect(counts()).toEqual([0, 0, 0])
  })

  it("resumes in its client's turn: with every slot busy, resuming commands and another client's alternate", async () => {
    const { ran, calls, executor, go } = yieldingExecutor()
    const { take, counts, outcomesOf } = bench(executor)
    take('a', ['y1', 'y2', 'y3', 'y4'], 'A')
    await settle()
    expect(counts()).toEqual([0, 0, 4])
    take('b', ['b1', 'b2', 'b3', 'b4'], 'B')
    expect(ran).toEqual(['b1'])
    for (const y of ['y1', 'y2', 'y3', 'y4']) void go(y)
    expect(counts()).toEqual([1, 7, 8])
    for (let n = 0; n < 7; n++) {
      calls.get(ran.at(-1)!)!.resolve(ran.at(-1))
      await settle()
    }
    calls.get(ran.at(-1)!)!.resolve(ran.at(-1))
    await settle()
    expect(ran.map((address) => address[0])).toEqual(['b', 'y', 'b', 'y', 'b', 'y', 'b', 'y'])
    expect(ran.filter((address) => address.startsWith('b'))).toEqual(['b1', 'b2', 'b3', 'b4'])
    expect(outcomesOf('a')).toEqual([[0, 'y1'], [0, 'y2'], [0, 'y3'], [0, 'y4']])
    expect(counts()).toEqual([0, 0, 0])
  })

  it('may give back the slot it resumed in and resume again', async () => {
    const { ran, calls, executor, go } = yieldingExecutor()
    const { take, counts, outcomesOf } = bench(executor)
    take('a', ['y1'], 'A')
    await settle()
    await go('y1')
    take('b', ['b1'], 'B')
    expect(counts()).toEqual([1, 1, 2])
    calls.get('y1')!.control!.yieldSlot()
    await settle()
    expect(ran).toEqual(['y1', 'b1'])
    void go('y1')
    calls.get('b1')!.resolve(1)
    await settle()
    expect(ran).toEqual(['y1', 'b1', 'y1'])
    calls.get('y1')!.resolve(2)
    await settle()
    expect(outcomesOf('a')).toEqual([[0, 2]])
    expect(counts()).toEqual([0, 0, 0])
  })

  it("lets 20 000 commands yield from inside their start, one after the other, without the runner's stack growing", async () => {
    // Deaf: 20 000 abort listeners on the one signal of the client would cost O(n²) to add.
    const { ran, calls, executor } = yieldingExecutor({ deaf: true })
    const { take, counts } = bench(executor, { concurrency: 2, maxBatch: 20_000 })
    take('a', Array.from({ length: 20_000 }, (_, k) => `y${k}`), 'A')
    take('b', ['b1'], 'B')
    await settle()
    expect(calls.size).toBe(20_001)
    expect(ran).toEqual(['b1'])
    expect(counts()).toEqual([1, 0, 20_001])
  })
})

describe("a client's cancel", () => {
  it('settles code 4 at once commands that yielded, that wait to resume and that resumed, and hands back exactly their slots', async () => {
    const { ran, calls, executor, go, resumed } = yieldingExecutor()
    const { runner, take, counts, outcomesOf } = bench(executor, { concurrency: 2 })
    take('a', ['y1', 'y2', 'y3'], 'A')
    await settle()
    await go('y3')
    take('a2', ['a4'], 'A')
    take('b', ['b1', 'b2', 'b3'], 'B')
    void go('y2')
    await settle()
    // y1 holds no slot, y2 waits for one, y3 and a4 hold the two.
    expect(ran).toEqual(['y3', 'a4'])
    expect(counts()).toEqual([2, 4, 7])
    runner.cancel('A')
    expect(outcomesOf('a')).toEqual([[4, null], [4, null], [4, null]])
    expect(outcomesOf('a2')).toEqual([[4, null]])
    // The two slots y3 and a4 held went to B at once; none for y1, and y2 never resumes.
    expect(ran).toEqual(['y3', 'a4', 'b1', 'b2'])
    expect(counts()).toEqual([2, 1, 3])
    expect(await resumed.get('y2')).toMatchObject({ message: "command cancelled by its client's abort" })
    expect(calls.get('y1')!.signal.aborted).toBe(true)
    await expect(calls.get('y1')!.control!.resume()).rejects.toThrow('the command has its outcome already')
    calls.get('b1')!.resolve(1)
    await settle()
    expect(ran).toEqual(['y3', 'a4', 'b1', 'b2', 'b3'])
    calls.get('b2')!.resolve(2)
    calls.get('b3')!.resolve(3)
    await settle()
    expect(outcomesOf('b')).toEqual([[0, 1], [0, 2], [0, 3]])
    expect(counts()).toEqual([0, 0, 0])
  })
})

describe('a time limit', () => {
  it('settles code 3 a command that yielded or waits to resume, and takes the waiting one out of the queue', async () => {
    const { ran, calls, executor, go, resumed } = yieldingExecutor({ deaf: true })
    const { timers, take, counts, outcomesOf } = bench(executor, { commandTimeoutMs: 1000 })
    take('a', ['y1', 'y2'], 'A')
    await settle()
    expect(counts()).toEqual([0, 0, 2])
    await timers.advance(500)
    take('b', ['b1'], 'B')
    void go('y2')
    await settle()
    expect(counts()).toEqual([1, 1, 3])
    await timers.advance(500)
    expect(outcomesOf('a')).toEqual([
      [3, null],
      [3, null],
    ])
    expect(counts()).toEqual([1, 0, 1])
    expect(await resumed.get('y2')).toMatchObject({ message: 'the command has its outcome already' })
    await expect(calls.get('y1')!.control!.resume()).rejects.toThrow('the command has its outcome already')
    calls.get('b1')!.resolve(1)
    await settle()
    expect(ran).toEqual(['b1'])
    expect(counts()).toEqual([0, 0, 0])
    expect(timers.count).toBe(0)
  })

  it('frees the slot a command resumed in, even when its executor ignores its signal', async () => {
    const { ran, executor, go } = yieldingExecutor({ deaf: true })
    const { timers, take, counts, outcomesOf } = bench(executor, { commandTimeoutMs: 1000 })
    take('a', ['y1'], 'A')
    await settle()
    await go('y1')
    take('b', ['b1'], 'B')
    expect(counts()).toEqual([1, 1, 2])
    await timers.advance(1000)
    expect(outcomesOf('a')).toEqual([[3, null]])
    expect(ran).toEqual(['y1', 'b1'])
    expect(counts()).toEqual([1, 0, 1])
  })
})

describe('a forced stop', () => {
  it('ends commands that yielded or wait to resume, and a later resume rejects', async () => {
    const { ran, calls, executor, go } = yieldingExecutor()
    const { runner, take, counts, outcomesOf } = bench(executor)
    take('a', ['y1', 'y2'], 'A')
    await settle()
    take('b', ['b1'], 'B')
    void go('y2')
    await settle()
    expect(counts()).toEqual([1, 1, 3])
    const idle = runner.idle()
    runner.abort()
    expect(runner.queued).toBe(0)
    await idle
    expect(outcomesOf('a')?.map((o) => o[0])).toEqual([2, 2])
    expect(outcomesOf('b')?.map((o) => o[0])).toEqual([2])
    expect(ran).toEqual(['b1'])
    await settle()
    expect(counts()).toEqual([0, 0, 0])
    await expect(calls.get('y1')!.control!.resume()).rejects.toThrow()
  })

  it('rejects the resume of a command whose executor ignored its signal, so that it ends', async () => {
    const { calls, executor, go, resumed } = yieldingExecutor({ deaf: true })
    const { runner, take, counts, outcomesOf } = bench(executor)
    take('a', ['y1'], 'A')
    await settle()
    const idle = runner.idle()
    runner.abort()
    void go('y1')
    await idle
    expect(await resumed.get('y1')).toBe(calls.get('y1')!.signal.reason)
    expect(outcomesOf('a')?.map((o) => o[0])).toEqual([2])
    expect(counts()).toEqual([0, 0, 0])
  })
})
