/**
 * A command's hold on its worker slot, as an executor that sets
 * `usesSlots` sees it ({@link CommandControl}): it may give the slot back
 * while it waits on a limit of its own and queue for one again, in the fair
 * order, when it may go on. One per command of such an executor; other
 * executors' commands get none. Its two calls are methods on the prototype
 * (no closures per command): call them on the object.
 *
 * The slot it first held is the one {@link FairSlots} started it in; once it
 * has given that back, its end must free nothing of it (the runner answers
 * {@link DETACHED} for it). A slot it gets on resuming is held by this object
 * as a one-command batch of its client, whose promise settles when the
 * command ends.
 */
import type { CommandControl } from '../executors/types.js'
import { DETACHED, type FairBatch, type FairSlots, type QueuedBatch } from './fair-slots.js'

/** What the controls of one runner share. */
export interface SlotHost {
  readonly slots: FairSlots<string | symbol>
  /** The worker's forced stop: a command may not take a slot again once it fired. */
  readonly stopped: AbortSignal
}

/** Holds its first slot. */
const HELD = 0
/** Holds no slot and waits for none. */
const YIELDED = 1
/** Waits for a slot in the queue. */
const RESUMING = 2
/** Holds the slot it got on resuming. */
const RESUMED = 3
/** Has its outcome: holds nothing, and nothing it asks for is granted. */
const DONE = 4

const settledError = (): Error => new Error('the command has its outcome already')

export class SlotControl implements CommandControl, FairBatch {
  private state = HELD
  /** It gave its first slot back: that slot's end is {@link DETACHED}. */
  private gave = false
  private queued: QueuedBatch | undefined = undefined
  private resuming: Promise<void> | undefined = undefined
  private resolveResume: (() => void) | undefined = undefined
  private rejectResume: ((reason: unknown) => void) | undefined = undefined
  /** Ends the slot it got on resuming. */
  private endSlot: ((ended: unknown) => void) | undefined = undefined

  constructor(
    private readonly host: SlotHost,
    private readonly client: string,
    /** Its client's controls that gave a slot back and have no outcome yet, for a cancel or a forced stop. */
    private readonly away: Set<SlotControl>,
  ) {}

  /** Whether its first slot was given back (then the runner answers {@link DETACHED} for it). */
  get gaveBack(): boolean {
    return this.gave
  }

  yieldSlot(): void {
    if (this.state === HELD) {
      this.gave = true
      this.away.add(this)
      this.host.slots.detach(1)
    } else if (this.state === RESUMED) {
      this.freeSlot(undefined)
    } else {
      return
    }
    this.state = YIELDED
  }

  resume(): Promise<void> {
    switch (this.state) {
      case HELD:
      case RESUMED:
        return Promise.resolve()
      case RESUMING:
        return this.resuming!
      case DONE:
        return Promise.reject(settledError())
    }
    if (this.host.stopped.aborted) return Promise.reject(this.host.stopped.reason)
    this.state = RESUMING
    this.resuming = new Promise<void>((resolve, reject) => {
      this.resolveResume = resolve
      this.rejectResume = reject
    })
    const resuming = this.resuming
    // May start it at once (startCommand runs inside), when a slot is free.
    const queued = this.host.slots.enqueue(this.client, this, 1)
    if (this.state === RESUMING) this.queued = queued
    return resuming
  }

  /** {@link FairSlots} gives it a slot: held until the command ends (or yields again). */
  startCommand(): Promise<unknown> {
    const resolve = this.resolveResume!
    this.clearResume()
    this.state = RESUMED
    resolve()
    return new Promise<unknown>((end) => (this.endSlot = end))
  }

  /** The command has its outcome (its executor ended, or its time limit passed): the slot it holds or waits for goes. */
  finish(): void {
    if (this.state === RESUMING) {
      this.host.slots.withdraw(this.client, this.queued!)
      this.failResume(settledError())
    } else if (this.state === RESUMED) {
      this.freeSlot(undefined)
    }
    this.done()
  }

  /**
   * Its client's cancel, after the waiting commands were dropped from the
   * slots (a resuming one with them). Returns 1 when it held no slot and
   * waited for none, so the cancel hands back no slot for it; 0 otherwise.
   */
  cancel(reason: unknown): number {
    const slotless = this.state === YIELDED ? 1 : 0
    if (this.state === RESUMING) this.failResume(reason)
    // The cancel hands this slot back itself.
    else if (this.state === RESUMED) this.freeSlot(DETACHED)
    this.done()
    return slotless
  }

  /** The worker's forced stop: a resuming command stops waiting for a slot, its resume rejecting with `reason`. */
  stop(reason: unknown): void {
    if (this.state !== RESUMING) return
    this.host.slots.withdraw(this.client, this.queued!)
    this.failResume(reason)
    this.state = YIELDED
  }

  private done(): void {
    this.state = DONE
    if (this.gave) this.away.delete(this)
  }

  private freeSlot(ended: unknown): void {
    const end = this.endSlot!
    this.endSlot = undefined
    end(ended)
  }

  private failResume(reason: unknown): void {
    const reject = this.rejectResume!
    this.clearResume()
    reject(reason)
  }

  private clearResume(): void {
    this.resuming = this.resolveResume = this.rejectResume = this.queued = undefined
  }
}
