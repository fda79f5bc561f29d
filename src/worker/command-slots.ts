/**
 * Bounds the commands run at once. A command starts at once while a slot is
 * free; beyond that it waits in a FIFO and starts when one frees.
 *
 * The worker no longer uses it: first come, first served across batches let
 * one client's 40 000 commands hold up another's 16 for 19.8 s, so the worker
 * runs FairSlots (fair-slots.ts). It stays as the FIFO baseline of
 * bench/micro/slots.mjs.
 *
 * This replaced p-queue on the worker's per-command path: p-queue's `add`
 * measured 7.6 µs per command (100 000 adds: 763 ms, against 366 ms for the
 * same promises and timers started directly), about a fifth of a worker's CPU
 * at zero-wait load. Here a command costs a counter and, when saturated, a
 * deque slot.
 */
import { Deque } from '../util/deque.js'

export type CommandTask = () => Promise<unknown>

export class CommandSlots {
  private active = 0
  private readonly waiting = new Deque<CommandTask>(1024)

  constructor(
    /** Commands running at once, at least 1. */
    readonly limit: number,
  ) {}

  /** Commands running now. */
  get running(): number {
    return this.active
  }

  /** Commands waiting for a slot. */
  get queued(): number {
    return this.waiting.length
  }

  /** Starts `task` now if a slot is free, else when one frees, in order. `task` should not reject. */
  run(task: CommandTask): void {
    if (this.active < this.limit) {
      this.active++
      this.start(task)
    } else {
      this.waiting.push(task)
    }
  }

  private start(task: CommandTask): void {
    let running: Promise<unknown>
    try {
      running = task()
    } catch {
      // A task that throws instead of rejecting still gives its slot back.
      queueMicrotask(this.release)
      return
    }
    running.then(this.release, this.release)
  }

  /** Hands the freed slot to the next waiting task, or gives it back. */
  private readonly release = (): void => {
    const next = this.waiting.shift()
    if (next === undefined) this.active--
    else this.start(next)
  }
}
