import { describe, expect, it } from 'vitest'
import { CommandSlots } from '../../src/worker/command-slots.js'

/** A task the test finishes by hand, recording when it started. */
function manual(started: number[], n: number): { task: () => Promise<void>; finish: () => void; fail: () => void } {
  let finish!: () => void
  let fail!: () => void
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve
    fail = () => reject(new Error(`task ${n} failed`))
  })
  done.catch(() => undefined)
  return {
    task: () => {
      started.push(n)
      return done
    },
    finish,
    fail,
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe('CommandSlots with a limit of 2', () => {
  it('starts two tasks at once and queues the rest in order', async () => {
    const slots = new CommandSlots(2)
    const started: number[] = []
    const tasks = [1, 2, 3, 4].map((n) => manual(started, n))
    for (const t of tasks) slots.run(t.task)
    expect(started).toEqual([1, 2])
    expect([slots.running, slots.queued]).toEqual([2, 2])
    tasks[1]!.finish()
    await settle()
    expect(started).toEqual([1, 2, 3])
    tasks[0]!.fail() // a failed task frees its slot too
    await settle()
    expect(started).toEqual([1, 2, 3, 4])
    expect([slots.running, slots.queued]).toEqual([2, 0])
    tasks[2]!.finish()
    tasks[3]!.finish()
    await settle()
    expect([slots.running, slots.queued]).toEqual([0, 0])
  })

  it('never runs more than its limit across 1 000 tasks of random length', async () => {
    const slots = new CommandSlots(7)
    let running = 0
    let most = 0
    let finished = 0
    for (let i = 0; i < 1000; i++) {
      slots.run(async () => {
        running++
        most = Math.max(most, running)
        for (let k = 0; k <= i % 5; k++) await Promise.resolve()
        running--
        finished++
      })
    }
    while (finished < 1000) await settle()
    expect(most).toBe(7)
    expect(slots.running).toBe(0)
  })

  it('gives the slot back when a task throws instead of returning a promise', async () => {
    const slots = new CommandSlots(1)
    const started: number[] = []
    slots.run(() => {
      throw new Error('not a promise')
    })
    slots.run(async () => void started.push(2))
    await settle()
    expect(started).toEqual([2])
    expect([slots.running, slots.queued]).toEqual([0, 0])
  })
})
