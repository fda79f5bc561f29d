/**
 * Per-address limits of the checks executor (checks.md: `per_target`,
 * `rate`): one p-queue per address, `concurrency` = per_target and, when a
 * rate is set, `intervalCap` / `interval` = the rate.
 *
 * - **Key.** A queue is per address and per distinct limits: a check that
 *   overrides `per_target` or `rate` gets queues of its own, shared with any
 *   other check whose limits are the same. So with `per_target = 4` by default
 *   and one check at `per_target = 1`, up to 5 commands can run against one
 *   address at once.
 * - **Order.** FIFO per queue, so the order in which the worker's fair slots
 *   (round-robin over clients, then batches) hand commands over carries
 *   through to each address.
 * - **Worker slots.** A command that cannot start at once (its address's
 *   `per_target` is full or its rate window spent) gives its worker slot back
 *   while it waits ({@link CommandControl}), so that other commands, other
 *   clients' against other addresses first, run meanwhile; once its queue
 *   lets it go, it waits for a worker slot again, in the worker's fair order,
 *   keeping its place in `per_target` and in the rate window, and only then
 *   runs. A command that starts at once never touches its control.
 * - **Abort.** A command still waiting whose signal aborts leaves its queue at
 *   once and rejects with the signal's reason; one that runs is the kind's to
 *   end (it gets the same signal), and keeps its place in `per_target` until
 *   it has.
 * - **Bounded LRU.** At most `maxQueues` queues (default 10 000). A queue is
 *   dropped as soon as it is idle (nothing running or waiting); one with a
 *   rate only once its interval has passed since its last start, so that a
 *   fresh queue for the same address never allows a second burst in the same
 *   interval. When a new queue is needed and the LRU is full, the least
 *   recently used idle queue is evicted (even one still inside its interval:
 *   that address may then see one early burst); when none is idle, the new
 *   queue is made anyway and the cap is exceeded, since a command is never
 *   dropped or held back for want of a queue.
 *
 * The queues are small by design: p-queue's cost grows with the number of
 * entries waiting in one queue (bench/micro/slots.mjs measured it 100x slower
 * than the worker's FairSlots with 100 000 waiting), and here a queue holds at
 * most the commands waiting for one address.
 */
import PQueue, { type QueueAddOptions } from 'p-queue'
import { monotonicClock, type Clock } from '../../util/clock.js'
import type { CommandControl } from '../types.js'
import type { CheckLimits } from './types.js'
import { FifoQueue } from './fifo-queue.js'

type RunFunction = () => Promise<unknown>

/** Timers as the limiter asks for them; tests pass fake ones. */
export interface LimiterTimers {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** The real timers, unref'd: a queue waiting to be dropped never keeps a process alive. */
const systemTimers: LimiterTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

export interface TargetLimiterOptions {
  /**
   * Most per-address queues kept at once (see the module comment for what
   * happens when all of them are busy).
   * @default 10000
   */
  readonly maxQueues?: number
  /** Decides when a rate-limited queue may be dropped. @default the monotonic clock */
  readonly clock?: Clock
  /** @default the real timers, unref'd */
  readonly timers?: LimiterTimers
}

/** The defaults of {@link TargetLimiterOptions}. */
export const targetLimiterDefaults = { maxQueues: 10_000 } as const

/**
 * One address's queue under one set of limits.
 *
 * p-queue 8 keeps its interval timers to itself, and left alone it leaves
 * them armed up to two intervals after its queue empties (a resume timeout,
 * then a fresh setInterval: 2 minutes for "N/m"), which kept a process alive
 * after close(). So a rate-limited lane's queue never reports itself empty:
 * p-queue then never pauses its interval and never arms a resume timeout,
 * and its one timer, the setInterval, is made only inside `add()`, where
 * {@link Lane.add} catches it, to clear it when the lane goes.
 */
class Lane {
  readonly queue: PQueue<FifoQueue, QueueAddOptions>
  readonly fifo: FifoQueue
  readonly intervalMs: number | undefined
  /** p-queue's interval timer, the latest it made (an earlier one it has cleared itself). */
  private intervalTimer: ReturnType<typeof setInterval> | undefined
  /** The commands waiting in {@link fifo}, by the id they have there. */
  readonly waiting = new Map<string, Waiter>()
  running = 0
  lastStart = Number.NEGATIVE_INFINITY
  dropTimer: unknown = undefined
  private nextId = 0

  constructor(
    readonly key: string,
    limits: CheckLimits,
  ) {
    let made: FifoQueue | undefined
    // p-queue makes its queue itself (`new queueClass()`); this class hands that instance back.
    const queueClass = class extends FifoQueue {
      constructor() {
        super()
        made = this
      }
    }
    const rate = limits.rate
    this.queue = new PQueue({
      concurrency: limits.perTarget,
      queueClass,
      ...(rate === undefined ? {} : { intervalCap: rate.count, interval: rate.intervalMs }),
    })
    this.fifo = made!
    this.fifo.neverEmpty = rate !== undefined
    this.intervalMs = rate?.intervalMs
  }

  /** `queue.add`, catching the interval timer p-queue may make while it starts `run`. */
  add(run: RunFunction, id: string): Promise<unknown> {
    if (this.intervalMs === undefined) return this.queue.add(run, { id })
    const setIntervalOfNode = globalThis.setInterval
    const catching = (...args: Parameters<typeof setInterval>): ReturnType<typeof setInterval> => (this.intervalTimer = setIntervalOfNode(...args))
    globalThis.setInterval = catching as typeof setInterval
    try {
      return this.queue.add(run, { id })
    } finally {
      globalThis.setInterval = setIntervalOfNode
    }
  }

  /** Clears p-queue's interval timer: the lane is being dropped. */
  stopTimers(): void {
    if (this.intervalTimer !== undefined) clearInterval(this.intervalTimer)
    this.intervalTimer = undefined
  }

  get idle(): boolean {
    return this.running === 0 && this.waiting.size === 0
  }

  newId(): string {
    return String(++this.nextId)
  }
}

/** A command waiting in a lane. */
interface Waiter {
  readonly lane: Lane
  readonly id: string
  /** The waiters of its signal, which it leaves when it starts. */
  readonly ofSignal: Set<Waiter>
  readonly reject: (reason: unknown) => void
}

/** The key of an address's queue under `limits`. */
function laneKey(address: string, limits: CheckLimits): string {
  const rate = limits.rate === undefined ? '' : `${limits.rate.count}/${limits.rate.intervalMs}`
  // Host names in any case are one device, as DNS has it.
  return `${limits.perTarget}|${rate}|${address.toLowerCase()}`
}

const closedError = (): Error => new Error('the checks executor is closed')

/**
 * Runs tasks under per-address limits. One per checks executor.
 *
 * @example
 * const limiter = new TargetLimiter()
 * const value = await limiter.run('10.0.0.1', check.limits, signal, () => runTcp(check, run))
 */
export class TargetLimiter {
  private readonly maxQueues: number
  private readonly clock: Clock
  private readonly timers: LimiterTimers
  /** Every lane kept, busy or idle, by key. */
  private readonly lanes = new Map<string, Lane>()
  /**
   * Idle lanes not yet dropped (rate-limited ones inside their interval),
   * oldest idle first: the LRU order, as only an idle lane is ever evicted and
   * a lane's last use is when it became idle. A busy lane is not reordered
   * on each use (a Map delete and set per command, ~6% of a tcp check's CPU).
   */
  private readonly idleLanes = new Set<Lane>()
  /**
   * One abort listener per signal, not per waiting command: the worker hands
   * the same signal to every command that has no time limit, and adding a
   * listener costs O(listeners) (see device-map.ts).
   */
  private readonly waitersBySignal = new WeakMap<AbortSignal, Set<Waiter>>()
  private runningTasks = 0
  private onNoneRunning: (() => void) | undefined
  private closed = false
  private closing: Promise<void> | undefined

  constructor(options: TargetLimiterOptions = {}) {
    this.maxQueues = options.maxQueues ?? targetLimiterDefaults.maxQueues
    if (!Number.isSafeInteger(this.maxQueues) || this.maxQueues < 1) throw new TypeError(`maxQueues must be an integer >= 1, got ${this.maxQueues}`)
    this.clock = options.clock ?? monotonicClock
    this.timers = options.timers ?? systemTimers
  }

  /** Queues kept now, busy or idle. */
  get queues(): number {
    return this.lanes.size
  }

  /** Tasks running now, over every address. */
  get running(): number {
    return this.runningTasks
  }

  /**
   * Runs `task` once the limits of `address` allow it, and settles as it
   * does. Rejects with `signal.reason`, without running it, when `signal`
   * aborts while it waits (or has aborted already). With `control`, a task
   * that has to wait gives its worker slot back meanwhile and, once its turn
   * here comes, runs only after `control.resume()` (see the module comment);
   * when that rejects, the task does not run and this rejects with its reason.
   */
  run<T>(address: string, limits: CheckLimits, signal: AbortSignal, task: () => Promise<T>, control?: CommandControl): Promise<T> {
    if (this.closed) return Promise.reject(closedError())
    if (signal.aborted) return Promise.reject(signal.reason)
    const lane = this.laneFor(laneKey(address, limits), limits)
    return new Promise<T>((resolve, reject) => {
      const ofSignal = this.waitersOf(signal)
      const waiter: Waiter = { lane, id: lane.newId(), ofSignal, reject }
      lane.waiting.set(waiter.id, waiter)
      ofSignal.add(waiter)
      let yielded = false
      const ended = (): void => {
        lane.running--
        if (--this.runningTasks === 0) this.onNoneRunning?.()
        this.settle(lane)
      }
      // Not async: one promise per task, not three (p-queue awaits what this returns).
      const start = (): Promise<T> => {
        lane.waiting.delete(waiter.id)
        ofSignal.delete(waiter)
        lane.running++
        this.runningTasks++
        lane.lastStart = this.clock()
        let running: Promise<T>
        try {
          running = yielded ? control!.resume().then(task) : task()
        } catch (error) {
          running = Promise.reject(error)
        }
        return running.then(
          (value) => {
            ended()
            return value
          },
          (error: unknown) => {
            ended()
            throw error
          },
        )
      }
      // A removed (aborted) entry's promise never settles: nothing holds it any more, and it is collected.
      lane.add(start, waiter.id).then((value) => resolve(value as T), reject)
      // p-queue starts what it can inside add(): still waiting means the queue holds it back.
      if (control !== undefined && lane.waiting.has(waiter.id)) {
        yielded = true
        control.yieldSlot()
      }
    })
  }

  /**
   * Rejects every waiting command, waits for the running ones to end, and
   * drops every queue and timer. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    this.closed = true
    for (const lane of this.lanes.values()) {
      for (const waiter of lane.waiting.values()) this.leave(waiter, closedError())
    }
    if (this.runningTasks > 0) await new Promise<void>((resolve) => (this.onNoneRunning = resolve))
    for (const lane of this.lanes.values()) {
      this.forget(lane)
      lane.stopTimers()
    }
    this.lanes.clear()
    this.idleLanes.clear()
  }

  /** Takes a waiting command out of its queue and rejects it; false when it had already started or left. */
  private leave(waiter: Waiter, reason: unknown): boolean {
    if (!waiter.lane.fifo.remove(waiter.id)) return false
    waiter.lane.waiting.delete(waiter.id)
    waiter.ofSignal.delete(waiter)
    waiter.reject(reason)
    return true
  }

  private waitersOf(signal: AbortSignal): Set<Waiter> {
    let waiters = this.waitersBySignal.get(signal)
    if (waiters === undefined) {
      const set = new Set<Waiter>()
      waiters = set
      this.waitersBySignal.set(signal, set)
      signal.addEventListener(
        'abort',
        () => {
          for (const waiter of [...set]) if (this.leave(waiter, signal.reason)) this.settle(waiter.lane)
          set.clear()
        },
        { once: true },
      )
    }
    return waiters
  }

  private laneFor(key: string, limits: CheckLimits): Lane {
    const lane = this.lanes.get(key)
    if (lane !== undefined) {
      this.wake(lane)
      return lane
    }
    if (this.lanes.size >= this.maxQueues) {
      const oldest = this.idleLanes.values().next()
      if (oldest.done !== true) this.drop(oldest.value)
    }
    const made = new Lane(key, limits)
    this.lanes.set(key, made)
    return made
  }

  /** A lane in use again: no longer idle, and no drop pending. */
  private wake(lane: Lane): void {
    this.forget(lane)
    this.idleLanes.delete(lane)
  }

  /** After a task ended or a waiter left: drops the lane if it is idle and may go, or arranges to. */
  private settle(lane: Lane): void {
    if (!lane.idle || this.closed || this.lanes.get(lane.key) !== lane) return
    const wait = lane.intervalMs === undefined ? 0 : lane.lastStart + lane.intervalMs - this.clock()
    if (wait <= 0) {
      this.drop(lane)
      return
    }
    this.idleLanes.add(lane)
    lane.dropTimer ??= this.timers.setTimeout(() => {
      lane.dropTimer = undefined
      this.settle(lane)
    }, Math.ceil(wait))
  }

  private drop(lane: Lane): void {
    this.forget(lane)
    lane.stopTimers()
    this.idleLanes.delete(lane)
    if (this.lanes.get(lane.key) === lane) this.lanes.delete(lane.key)
  }

  private forget(lane: Lane): void {
    if (lane.dropTimer !== undefined) this.timers.clearTimeout(lane.dropTimer)
    lane.dropTimer = undefined
  }
}
