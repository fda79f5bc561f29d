/**
 * Runs the commands of the batches a worker holds and gives each one its
 * outcome: code 0 with the executor's value, 1 for `UnknownCommandError`, 2
 * with the message of any other failure, 3 when it ran past its time limit,
 * 4 when its client's `cancel` came first. No socket and no clock: time limits are timers asked of a {@link TimerPort},
 * which tests replace with fake time. When a batch's last command has its
 * outcome, `onSettled` hands it on (to the result delivery).
 *
 * Commands beyond `concurrency` wait in {@link FairSlots}: when a slot frees,
 * the next command comes from the next client in turn, and within that client
 * from its next batch in turn. A client's batch of 16 therefore never waits
 * behind another's 40 000 commands.
 *
 * The batches of one client share a {@link ClientScope}: the signal its
 * commands get and the set of its batches held, so the gateway's `cancel`
 * finds them without a scan and without a listener per command.
 *
 * An executor that sets `usesSlots` gets a {@link SlotControl} per command:
 * a command waiting on the executor's own limits gives its slot back, and
 * queues for one again, under its client, when it may go on (slot-control.ts).
 */
import { decodeTrusted } from '../protocol/codec.js'
import { errorCode, errorMessage } from '../errors.js'
import { scanCommandPairs } from '../protocol/msgpack-scan.js'
import { ResultCode, type CommandOutcome, type CommandPair, type TaskHeader } from '../protocol/types.js'
import type { Executor } from '../executors/types.js'
import { DETACHED, FairSlots, type FairBatch } from './fair-slots.js'
import { SlotControl, type SlotHost } from './slot-control.js'
import { ClientScope, PARKED_SCOPES, SCOPE_REUSES, systemTimers, type TimerPort } from './client-scope.js'

export { PARKED_SCOPES, SCOPE_REUSES, systemTimers, type TimerPort } from './client-scope.js'

/** A batch the worker holds; its commands start through {@link FairSlots}, by index. */
export class HeldBatch implements FairBatch {
  /** Emptied once the result body is encoded: a result waiting for delivery is its body alone. */
  outcomes: CommandOutcome[]
  remaining: number
  /** Its client's scope, from {@link BatchRunner.start} on. */
  scope: ClientScope | undefined = undefined
  /** Settled by its client's cancel: what its commands still running come to is ignored. */
  cancelled = false

  constructor(
    readonly header: TaskHeader,
    /** The decoded `[address, command]` pairs; emptied once the result body is encoded. */
    public pairs: CommandPair[],
    readonly commands: number,
    /** The connection it came on; a `ready` since then made the gateway requeue it. */
    readonly session: number,
    private readonly run: (batch: HeldBatch, index: number, end: (ended?: unknown) => void) => Promise<unknown> | undefined,
  ) {
    this.outcomes = new Array<CommandOutcome>(commands)
    this.remaining = commands
  }

  startCommand(index: number, end: (ended?: unknown) => void): Promise<unknown> | undefined {
    return this.run(this, index, end)
  }
}

export interface BatchRunnerOptions {
  readonly executor: Executor
  /** Commands running at once, over every batch. */
  readonly concurrency: number
  /** Per-command time limit in milliseconds; 0 means none. */
  readonly commandTimeoutMs: number
  /** Most commands accepted in one batch. */
  readonly maxBatch: number
  /** @default the real timers */
  readonly timers?: TimerPort
  /** A batch's every command has its outcome. Must not throw. */
  readonly onSettled: (batch: HeldBatch) => void
}

const TIMED_OUT = Symbol('timed out')
const CANCELLED: CommandOutcome = [ResultCode.Cancelled, null]
/** The client key of {@link BatchRunner.warmUp}'s batch: never a client id. */
const WARM_UP = Symbol('warm-up')

function failure(error: unknown): CommandOutcome {
  const code = errorCode(error)
  if (code === 'ERR_UNKNOWN_COMMAND') return [ResultCode.Unknown, null]
  if (code === 'ERR_COMMAND_TIMEOUT') return [ResultCode.Timeout, null]
  return [ResultCode.Failed, errorMessage(error)]
}

export class BatchRunner {
  private readonly slots: FairSlots<string | symbol>
  private readonly executor: Executor
  /** The executor's `usesSlots`: each of its commands gets a {@link SlotControl}. */
  private readonly usesSlots: boolean
  private readonly host: SlotHost
  private readonly timeoutMs: number
  private readonly maxBatch: number
  private readonly timers: TimerPort
  private readonly onSettled: (batch: HeldBatch) => void
  private readonly abortAll = new AbortController()
  /** The scope of each client with batches started and not settled; see {@link ClientScope}. */
  private readonly scopes = new Map<string, ClientScope>()
  /** Scopes with no batch held, never aborted, for their client's next batch: see {@link PARKED_SCOPES}. */
  private readonly parked = new Map<string, ClientScope>()
  /** Set by {@link abort}; a plain field, as it is read per command. */
  private stopped = false
  /** Commands started through {@link start} that have no outcome yet. */
  private unsettledCommands = 0
  private idleWaiters: (() => void)[] = []

  constructor(options: BatchRunnerOptions) {
    this.slots = new FairSlots(options.concurrency)
    this.executor = options.executor
    this.usesSlots = options.executor.usesSlots === true
    this.host = { slots: this.slots, stopped: this.abortAll.signal }
    this.timeoutMs = options.commandTimeoutMs
    this.maxBatch = options.maxBatch
    this.timers = options.timers ?? systemTimers
    this.onSettled = options.onSettled
  }

  /** Commands running now. */
  get running(): number {
    return this.slots.running
  }

  /** Commands waiting for a slot. */
  get queued(): number {
    return this.slots.queued
  }

  /** Commands handed to {@link start} that have no outcome yet, running or waiting. */
  get unsettled(): number {
    return this.unsettledCommands
  }

  /** Clients with batches started and not yet settled (each has one scope). */
  get clients(): number {
    return this.scopes.size
  }

  /**
   * Checks a task's body (at most `maxBatch` `[address, command]` string
   * pairs, nothing else) and returns the batch to {@link start}, or why the
   * body is malformed. Nothing runs yet.
   */
  decode(header: TaskHeader, body: Buffer | undefined, session: number): HeldBatch | string {
    const count = body === undefined ? 'no body frame' : scanCommandPairs(body, this.maxBatch)
    if (typeof count === 'string') return count
    return new HeldBatch(header, decodeTrusted(body!) as CommandPair[], count, session, this.runInto)
  }

  /** Queues the batch's commands in the fair order; they start as slots free. */
  start(batch: HeldBatch): void {
    const client = batch.header.client
    let scope = this.scopes.get(client)
    if (scope === undefined) {
      scope = this.parked.get(client)
      if (scope === undefined) scope = new ClientScope(client)
      else this.parked.delete(client)
      this.scopes.set(client, scope)
    }
    scope.uses++
    batch.scope = scope
    scope.batches.add(batch)
    this.unsettledCommands += batch.commands
    // One entry for the whole batch, keyed by its client: no closure per command.
    this.slots.enqueue(client, batch, batch.commands)
  }

  /**
   * The gateway's `cancel` for `client` (its `abort`): every command of that
   * client held now gets code 4 at once. Waiting ones never start; running
   * ones have their signal aborted and their slot handed back without
   * waiting for the executor, whose late result is ignored. The batches go
   * on to `onSettled` (their results still go out). Batches of the client
   * that come later run as usual; a client with nothing held is a no-op.
   */
  cancel(client: string): void {
    const scope = this.scopes.get(client)
    if (scope === undefined) return
    this.scopes.delete(client)
    const waiting = this.slots.drop(client)
    let unsettled = 0
    for (const batch of scope.batches) {
      batch.cancelled = true
      unsettled += batch.remaining
    }
    const reason = new Error("command cancelled by its client's abort")
    // Commands that gave their slot back and wait for none have no slot to hand back.
    let slotless = 0
    for (const control of scope.away) slotless += control.cancel(reason)
    scope.controller.abort(reason)
    for (const controller of scope.timed) controller.abort(reason)
    for (const batch of scope.batches) {
      const outcomes = batch.outcomes
      for (let i = 0; i < outcomes.length; i++) if (outcomes[i] === undefined) outcomes[i] = CANCELLED
      batch.remaining = 0
    }
    const batches = [...scope.batches]
    scope.batches.clear()
    this.commandsSettled(unsettled)
    // The commands that were running resolve DETACHED when their executor ends (settle's guard).
    this.slots.detach(unsettled - waiting - slotless)
    for (const batch of batches) this.onSettled(batch)
  }

  /**
   * Forced stop: running commands are aborted through their signal, and
   * waiting ones never start (each gets code 2 with the abort's reason).
   */
  abort(): void {
    this.stopped = true
    this.parked.clear()
    this.abortAll.abort()
    const reason: unknown = this.abortAll.signal.reason
    for (const scope of this.scopes.values()) {
      scope.controller.abort(reason)
      for (const controller of scope.timed) controller.abort(reason)
      for (const control of scope.away) control.stop(reason)
    }
  }

  /** Resolves when every command handed to {@link start} has its outcome. */
  idle(): Promise<void> {
    if (this.unsettledCommands === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Runs the queue a few hundred times so that the first batches run compiled code. */
  warmUp(): Promise<void> {
    return new Promise<void>((resolve) => {
      let left = 256
      this.slots.enqueue(WARM_UP, { startCommand: () => Promise.resolve(--left === 0 ? resolve() : undefined) }, 256)
    })
  }

  /**
   * Runs command `i` of `batch` when {@link FairSlots} gives it a slot, and
   * records its outcome. Plain promise chaining, not async wrappers: with
   * 100 000 commands waiting at once, every promise per command is promoted
   * and collected later (GC was ~45% of a worker's CPU).
   */
  private readonly runInto = (batch: HeldBatch, i: number, end: (ended?: unknown) => void): Promise<unknown> | undefined => {
    if (this.stopped) {
      // Stopped by force while this command waited for a slot: it never starts.
      this.settle(batch, i, failure(this.abortAll.signal.reason))
      return Promise.resolve()
    }
    const [address, command] = batch.pairs[i]!
    const scope = batch.scope!
    if (this.usesSlots) return this.runControlled(batch, i, scope, address, command)
    if (this.timeoutMs !== 0) {
      return this.runWithTimeLimit(scope, address, command).then((outcome) => this.settle(batch, i, outcome))
    }
    let running: Promise<unknown>
    try {
      // Promise.resolve: an executor written in plain JS may return a value, not a promise.
      running = Promise.resolve(this.executor(address, command, scope.signal))
    } catch (error) {
      this.settle(batch, i, failure(error))
      return Promise.resolve()
    }
    // The slot is ended from the outcome's callback: no second promise per command for FairSlots.
    void running.then(
      (value) => this.settleAndEnd(batch, i, [ResultCode.Ok, value], end),
      (error: unknown) => this.settleAndEnd(batch, i, failure(error), end),
    )
    return undefined
  }

  /**
   * {@link settle}, then the command's slot ends. `onSettled` must not throw;
   * if it does anyway, the slot still ends and the error goes no further, as
   * when FairSlots was handed a rejected promise.
   */
  private settleAndEnd(batch: HeldBatch, i: number, outcome: CommandOutcome, end: (ended?: unknown) => void): void {
    let ended: typeof DETACHED | undefined
    try {
      ended = this.settle(batch, i, outcome)
    } catch {
      ended = undefined
    }
    end(ended)
  }

  /** {@link runInto} for an executor with `usesSlots`: the command gets a {@link SlotControl}. */
  private runControlled(batch: HeldBatch, i: number, scope: ClientScope, address: string, command: string): Promise<unknown> {
    const control = new SlotControl(this.host, scope.client, scope.away)
    if (this.timeoutMs !== 0) {
      return this.runWithTimeLimit(scope, address, command, control).then((outcome) => this.settleControlled(batch, i, outcome, control))
    }
    let running: Promise<unknown>
    try {
      running = Promise.resolve(this.executor(address, command, scope.signal, control))
    } catch (error) {
      running = Promise.reject(error)
    }
    return running.then(
      (value) => this.settleControlled(batch, i, [ResultCode.Ok, value], control),
      (error: unknown) => this.settleControlled(batch, i, failure(error), control),
    )
  }

  /** {@link settle}, after which the command's control lets go of its slots; the first slot's end frees nothing once given back. */
  private settleControlled(batch: HeldBatch, i: number, outcome: CommandOutcome, control: SlotControl): typeof DETACHED | undefined {
    const gaveBack = control.gaveBack
    control.finish()
    const settled = this.settle(batch, i, outcome)
    return gaveBack ? DETACHED : settled
  }

  /**
   * Records what command `i` came to. After its batch was cancelled the
   * outcome is code 4 already and this one is ignored; it returns
   * {@link DETACHED} then, as the cancel handed its slot back already.
   */
  private settle(batch: HeldBatch, i: number, outcome: CommandOutcome): typeof DETACHED | undefined {
    if (batch.cancelled) return DETACHED
    batch.outcomes[i] = outcome
    if (--batch.remaining === 0) {
      const scope = batch.scope!
      scope.batches.delete(batch)
      // Its last batch settled: the scope goes (unless a cancel already replaced it), parked for the client's next batch.
      if (scope.batches.size === 0 && this.scopes.get(scope.client) === scope) {
        this.scopes.delete(scope.client)
        this.park(scope)
      }
      this.onSettled(batch)
    }
    this.commandsSettled(1)
    return undefined
  }

  /** Keeps a scope whose last batch settled for its client's next one; see {@link PARKED_SCOPES}. */
  private park(scope: ClientScope): void {
    if (this.stopped || scope.uses >= SCOPE_REUSES || scope.timed.size > 0 || scope.away.size > 0) return
    if (this.parked.size >= PARKED_SCOPES) this.parked.delete(this.parked.keys().next().value!)
    this.parked.set(scope.client, scope)
  }

  private commandsSettled(count: number): void {
    this.unsettledCommands -= count
    if (this.unsettledCommands === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const resolve of waiters) resolve()
    }
  }

  private async runWithTimeLimit(scope: ClientScope, address: string, command: string, control?: SlotControl): Promise<CommandOutcome> {
    const timeoutMs = this.timeoutMs
    // A controller per command (not AbortSignal.any over the scope's: each `any`
    // adds a listener to the shared signal, and adding listeners to one signal is O(n)).
    const controller = new AbortController()
    scope.timed.add(controller)
    let timer: unknown
    try {
      // The command first, then its time limit: a command whose wait equals the limit
      // then always finishes (timers of equal length fire in the order they were set).
      const running = Promise.resolve(
        control === undefined ? this.executor(address, command, controller.signal) : this.executor(address, command, controller.signal, control),
      )
      const timedOut = new Promise<never>((_, reject) => {
        timer = this.timers.setTimeout(() => {
          // Settle the race first: aborting makes the executor reject at once, which
          // would otherwise win and report the timeout as a failure (code 2).
          reject(TIMED_OUT)
          controller.abort(new Error(`command timed out after ${timeoutMs} ms`))
        }, timeoutMs)
      })
      return [ResultCode.Ok, await Promise.race([running, timedOut])]
    } catch (error) {
      return error === TIMED_OUT ? [ResultCode.Timeout, null] : failure(error)
    } finally {
      if (timer !== undefined) this.timers.clearTimeout(timer)
      scope.timed.delete(controller)
    }
  }
}
