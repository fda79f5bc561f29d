import { describe, expect, it } from 'vitest'
import { DETACHED, FairSlots, type FairBatch } from '../../src/worker/fair-slots.js'
import { seededRandom } from '../helpers/random.js'

/**
 * A test bench: batches whose commands the test finishes by hand. `started`
 * records `name:index` in start order; `running` holds the finishers of the
 * commands running now, oldest first.
 */
function bench(limit: number) {
  const slots = new FairSlots<string>(limit)
  const started: string[] = []
  const running: { name: string; finish: () => void; fail: () => void }[] = []
  const batch = (name: string): FairBatch => ({
    startCommand(index: number) {
      const label = `${name}:${index}`
      started.push(label)
      return new Promise<void>((resolve, reject) => {
        running.push({ name: label, finish: resolve, fail: () => reject(new Error(`${label} failed`)) })
      })
    },
  })
  /** Finishes the oldest running command (or the one named) and lets the freed slot be handed on. */
  const finish = async (name?: string): Promise<void> => {
    const at = name === undefined ? 0 : running.findIndex((r) => r.name === name)
    if (at < 0) throw new Error(`${name} is not running`)
    running.splice(at, 1)[0]!.finish()
    await settle()
  }
  return { slots, started, running, batch, finish }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe('FairSlots: the order in which waiting commands start', () => {
  it('takes the clients in turn, and within a client its batches in turn', async () => {
    const { slots, started, batch, finish } = bench(1)
    slots.enqueue('A', batch('a1'), 3)
    slots.enqueue('A', batch('a2'), 3)
    slots.enqueue('B', batch('b1'), 3)
    expect(started).toEqual(['a1:0'])
    for (let i = 0; i < 8; i++) await finish()
    // Round-robin over A and B; A's turns alternate between a2 and a1. First come,
    // first served would give a1:0 a1:1 a1:2 a2:0 a2:1 a2:2 b1:0 b1:1 b1:2.
    expect(started).toEqual(['a1:0', 'b1:0', 'a2:0', 'b1:1', 'a1:1', 'b1:2', 'a2:1', 'a1:2', 'a2:2'])
    expect([slots.running, slots.queued, slots.waitingClients]).toEqual([1, 0, 0])
    await finish()
    expect(slots.running).toBe(0)
  })

  it('gives each of three clients a third of the freed slots, whatever their batch sizes', async () => {
    const { slots, started, batch, finish } = bench(3)
    slots.enqueue('big', batch('big-1'), 1000)
    slots.enqueue('big', batch('big-2'), 1000)
    slots.enqueue('mid', batch('mid'), 100)
    slots.enqueue('one', batch('one'), 30)
    const before = started.length
    for (let i = 0; i < 90; i++) await finish()
    const counts = { big: 0, mid: 0, one: 0 }
    for (const label of started.slice(before)) counts[label.split(/[-:]/)[0] as keyof typeof counts]++
    expect(counts).toEqual({ big: 30, mid: 30, one: 30 })
    expect(slots.waitingClients).toBe(2) // "one" has started all its 30
  })

  it('starts a small batch of another client at the first freed slot behind a huge one, and all of it within twice its size', async () => {
    const { slots, started, batch, finish } = bench(4)
    slots.enqueue('A', batch('huge'), 10_000)
    expect(started).toEqual(['huge:0', 'huge:1', 'huge:2', 'huge:3'])
    slots.enqueue('B', batch('small'), 16)
    expect(started).toHaveLength(4) // no slot free: the limit holds
    await finish()
    expect(started[4]).toBe('small:0')
    for (let i = 0; i < 31; i++) await finish()
    expect(started.filter((label) => label.startsWith('small:'))).toHaveLength(16)
    expect(slots.queued).toBe(10_000 - 4 - 16)
  })

  it("starts a small batch of the same client at the first freed slot behind that client's huge one", async () => {
    const { slots, started, batch, finish } = bench(2)
    slots.enqueue('A', batch('huge'), 10_000)
    slots.enqueue('A', batch('small'), 3)
    await finish()
    expect(started.slice(2)).toEqual(['small:0'])
    for (let i = 0; i < 5; i++) await finish()
    expect(started.slice(2)).toEqual(['small:0', 'huge:2', 'small:1', 'huge:3', 'small:2', 'huge:4'])
    expect(slots.waitingClients).toBe(1)
  })

  it('starts the commands of one batch in index order, each exactly once', async () => {
    const { slots, started, batch, finish } = bench(2)
    slots.enqueue('A', batch('x'), 5)
    while (started.length < 5 || slots.running > 0) await finish()
    expect(started).toEqual(['x:0', 'x:1', 'x:2', 'x:3', 'x:4'])
  })

  it('keys clients by value for strings and by identity for objects', async () => {
    const slots = new FairSlots<object | string>(1)
    const started: string[] = []
    const finishers: (() => void)[] = []
    const batch = (name: string): FairBatch => ({
      startCommand: (i) => {
        started.push(`${name}:${i}`)
        return new Promise<void>((resolve) => finishers.push(resolve))
      },
    })
    const one = {}
    const two = {}
    slots.enqueue('c', batch('s1'), 2)
    slots.enqueue('c', batch('s2'), 2) // the same client as s1
    slots.enqueue(one, batch('o1'), 2)
    slots.enqueue(two, batch('o2'), 2) // another client: another object
    expect(slots.waitingClients).toBe(3)
    while (finishers.length > 0) {
      finishers.shift()!()
      await settle()
    }
    expect(started).toEqual(['s1:0', 'o2:0', 'o1:0', 's2:0', 'o2:1', 'o1:1', 's1:1', 's2:1'])
  })
})

describe('FairSlots: the limit and the slots', () => {
  it('starts at once what fits in the free slots and nothing beyond the limit', () => {
    const { slots, started, batch } = bench(5)
    slots.enqueue('A', batch('a'), 3)
    expect([slots.running, slots.queued]).toEqual([3, 0])
    slots.enqueue('B', batch('b'), 3)
    expect(started).toEqual(['a:0', 'a:1', 'a:2', 'b:0', 'b:1'])
    expect([slots.running, slots.queued, slots.waitingClients]).toEqual([5, 1, 1])
  })

  it('never runs more than its limit, and runs every command once, across 3 000 commands of random clients, batches and lengths', async () => {
    const random = seededRandom(7)
    const slots = new FairSlots<number>(7)
    let running = 0
    let most = 0
    let finished = 0
    const startedPerBatch: number[][] = []
    let total = 0
    let b = 0
    while (total < 3000) {
      const count = 1 + Math.floor(random() * 60)
      const seen: number[] = []
      startedPerBatch.push(seen)
      slots.enqueue(Math.floor(random() * 5), {
        startCommand: async (i) => {
          seen.push(i)
          running++
          most = Math.max(most, running)
          for (let k = 0; k <= (i + b) % 5; k++) await Promise.resolve()
          running--
          finished++
        },
      }, count)
      total += count
      b++
      if (b % 10 === 0) await Promise.resolve() // let some finish while more arrive
    }
    while (finished < total) await settle()
    expect(most).toBe(7)
    expect([slots.running, slots.queued, slots.waitingClients]).toEqual([0, 0, 0])
    for (const seen of startedPerBatch) expect(seen).toEqual(seen.map((_, i) => i))
  })

  it('gives the slot back when a command rejects', async () => {
    const { slots, started, running, batch } = bench(1)
    slots.enqueue('A', batch('a'), 2)
    running.shift()!.fail()
    await settle()
    expect(started).toEqual(['a:0', 'a:1'])
    expect(slots.running).toBe(1)
  })

  it('gives the slot back when startCommand throws instead of returning a promise', async () => {
    const slots = new FairSlots<string>(1)
    const started: string[] = []
    slots.enqueue('A', {
      startCommand(i) {
        if (i === 0) throw new Error('not a promise')
        started.push(`a:${i}`)
        return Promise.resolve()
      },
    }, 3)
    slots.enqueue('B', { startCommand: (i) => (started.push(`b:${i}`), Promise.resolve()) }, 1)
    await settle()
    expect(started).toEqual(['b:0', 'a:1', 'a:2'])
    expect([slots.running, slots.queued, slots.waitingClients]).toEqual([0, 0, 0])
  })

  it('lets a command enqueue more work from inside startCommand', async () => {
    const slots = new FairSlots<string>(2)
    const started: string[] = []
    slots.enqueue('A', {
      startCommand(i) {
        started.push(`a:${i}`)
        if (i === 0) slots.enqueue('B', { startCommand: (k) => (started.push(`b:${k}`), Promise.resolve()) }, 2)
        return Promise.resolve()
      },
    }, 2)
    await settle()
    expect(started.sort()).toEqual(['a:0', 'a:1', 'b:0', 'b:1'])
    expect([slots.running, slots.queued]).toEqual([0, 0])
  })

  it('ignores an empty batch and refuses a limit below 1', () => {
    const slots = new FairSlots<string>(1)
    slots.enqueue('A', { startCommand: () => Promise.reject(new Error('never')) }, 0)
    expect([slots.running, slots.queued, slots.waitingClients]).toEqual([0, 0, 0])
    expect(() => new FairSlots(0)).toThrow(RangeError)
    expect(() => new FairSlots(1.5)).toThrow(RangeError)
  })
})

describe("FairSlots: a client's cancel (drop and detach)", () => {
  it("drop takes out every waiting command of that client, over all its batches, and the others keep their order", async () => {
    const { slots, started, batch, finish } = bench(1)
    slots.enqueue('A', batch('a1'), 3)
    slots.enqueue('B', batch('b1'), 2)
    slots.enqueue('A', batch('a2'), 2)
    slots.enqueue('C', batch('c1'), 1)
    expect(slots.queued).toBe(7)
    expect(slots.drop('A')).toBe(4)
    expect([slots.queued, slots.waitingClients, slots.running]).toEqual([3, 2, 1])
    for (let i = 0; i < 4; i++) await finish()
    expect(started).toEqual(['a1:0', 'c1:0', 'b1:0', 'b1:1'])
    expect([slots.running, slots.queued]).toEqual([0, 0])
  })

  it('drop of the client whose turn is next passes the turn on, and of an unknown client is a no-op', async () => {
    const { slots, started, batch, finish } = bench(1)
    slots.enqueue('A', batch('a'), 2)
    slots.enqueue('B', batch('b'), 2)
    // a:0 runs; B joined last and has the next turn.
    expect(slots.drop('B')).toBe(2)
    expect(slots.drop('nobody')).toBe(0)
    await finish()
    await finish()
    expect(started).toEqual(['a:0', 'a:1'])
    // A client dropped can come back.
    slots.enqueue('B', batch('b2'), 1)
    await finish()
    expect(started).toEqual(['a:0', 'a:1', 'b2:0'])
  })

  it('detach hands the slots of running commands to waiting ones at once; their later DETACHED end frees nothing', async () => {
    const slots = new FairSlots<string>(2)
    const started: string[] = []
    const ends = new Map<string, (value: unknown) => void>()
    const batch = (name: string): FairBatch => ({
      startCommand(index) {
        started.push(`${name}:${index}`)
        return new Promise((resolve) => ends.set(`${name}:${index}`, resolve))
      },
    })
    slots.enqueue('A', batch('a'), 2)
    slots.enqueue('B', batch('b'), 3)
    expect(started).toEqual(['a:0', 'a:1'])
    slots.detach(2)
    expect(started).toEqual(['a:0', 'a:1', 'b:0', 'b:1'])
    expect([slots.running, slots.queued]).toEqual([2, 1])
    ends.get('a:0')!(DETACHED)
    ends.get('a:1')!(DETACHED)
    await settle()
    expect(started).toHaveLength(4)
    expect(slots.running).toBe(2)
    ends.get('b:0')!(undefined)
    await settle()
    expect(started).toEqual(['a:0', 'a:1', 'b:0', 'b:1', 'b:2'])
    ends.get('b:1')!(undefined)
    ends.get('b:2')!(undefined)
    await settle()
    expect([slots.running, slots.queued]).toEqual([0, 0])
  })

  it('holds the slot of a command that returns no promise until it calls end, and a DETACHED end frees nothing', async () => {
    const slots = new FairSlots<string>(1)
    const started: string[] = []
    const ends = new Map<string, (ended?: unknown) => void>()
    const batch = (name: string): FairBatch => ({
      startCommand(index, end) {
        started.push(`${name}:${index}`)
        ends.set(`${name}:${index}`, end)
        return undefined
      },
    })
    slots.enqueue('A', batch('a'), 2)
    slots.enqueue('B', batch('b'), 1)
    await settle()
    expect(started).toEqual(['a:0'])
    ends.get('a:0')!()
    expect(started).toEqual(['a:0', 'b:0'])
    // b:0's slot was handed back by a detach: its end must not free another one.
    slots.detach(1)
    expect(started).toEqual(['a:0', 'b:0', 'a:1'])
    ends.get('b:0')!(DETACHED)
    expect([slots.running, slots.queued]).toEqual([1, 0])
    ends.get('a:1')!()
    expect([slots.running, slots.queued]).toEqual([0, 0])
  })
})
