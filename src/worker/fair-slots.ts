/**
 * Bounds the commands a worker runs at once (`limit`) and decides, fairly,
 * which waiting command takes a slot when one frees: round-robin across the
 * CLIENTS that have commands waiting, then, within the client whose turn it
 * is, round-robin across its BATCHES that have commands waiting; within a
 * batch, commands start in order. A batch of 16 commands therefore never waits
 * behind another client's (or its own client's) batches of 10 000: with two
 * clients waiting, every second freed slot is its.
 *
 * A client or batch that joins the rings takes the very next turn (the place
 * just before the one whose turn it was), like a new flow in fq_codel: a small
 * batch arriving behind a huge one starts at the first freed slot. It has
 * then had its turn and waits for its next one like everybody else.
 *
 * Cost: every step is O(1), with no scan. The rings are circular doubly linked
 * lists through the nodes, with a cursor each; a command that starts moves two
 * cursors and a batch's index. A client's node is found by its key in a Map,
 * once per batch. Nothing is allocated per command: a batch is one node and
 * starts its commands by index (`startCommand(i)`), so no closure waits per
 * command (with 100 000 commands waiting, per-command closures and promises
 * are promoted and collected later; GC was ~45% of a worker's CPU). The only
 * promise per command is the one the batch returns, and its `then` uses one
 * shared callback; a batch may instead call that callback itself when the
 * command ends (the worker's runner does), and then no promise is made here.
 *
 * A client's `cancel` takes its waiting commands out ({@link FairSlots.drop})
 * and hands back the slots of its running ones at once
 * ({@link FairSlots.detach}), so an executor that ignores its signal holds no
 * slot after the cancel, as after a time limit. {@link FairSlots.withdraw}
 * takes one waiting batch out (a command resuming after it gave its slot
 * back, whose time limit passed meanwhile).
 *
 * It owns no sockets and no clock; the worker feeds it and its tests drive it by hand.
 */

/**
 * What a command's promise resolves with when its slot was already handed
 * back by {@link FairSlots.detach}: its end frees nothing.
 */
export const DETACHED: unique symbol = Symbol('detached')

/** A batch whose commands {@link FairSlots} starts one at a time, in order. */
export interface FairBatch {
  /**
   * Starts command `index` (0, 1, 2, … up to the count given to
   * {@link FairSlots.enqueue}) and returns a promise that settles when it
   * ends; its slot is held until then, unless it resolves with
   * {@link DETACHED}. It should not reject; if it throws, the slot is given back.
   *
   * Or it returns undefined and calls `end` once when the command ends, with
   * what the promise would have resolved with, and never from inside
   * `startCommand`: the slot is held until then, and no promise is made per
   * command for the slots' sake.
   */
  startCommand(index: number, end: (ended?: unknown) => void): PromiseLike<unknown> | undefined
}

/** A batch in the queue, as {@link FairSlots.enqueue} returns it: for {@link FairSlots.withdraw}. */
export interface QueuedBatch {
  readonly batch: FairBatch
}

/** A batch with commands still to start, in its client's ring. */
class BatchNode implements QueuedBatch {
  /** Index of the next command to start. */
  next = 0
  prev: BatchNode = this
  after: BatchNode = this

  constructor(
    readonly batch: FairBatch,
    readonly count: number,
  ) {}
}

/** A client with commands still to start, in the ring of clients. */
class ClientNode<K> {
  prev: ClientNode<K> = this
  after: ClientNode<K> = this

  constructor(
    readonly key: K,
    /** The batch whose turn is next within this client; never empty while in the ring. */
    public turn: BatchNode,
  ) {}
}

export class FairSlots<K = string> {
  private active = 0
  private waiting = 0
  /** Inside {@link fill}: a nested enqueue or detach leaves the starting to it. */
  private filling = false
  /** The client whose turn is next; undefined when no command waits. */
  private turn: ClientNode<K> | undefined
  private readonly clients = new Map<K, ClientNode<K>>()

  constructor(
    /** Commands running at once, at least 1. */
    readonly limit: number,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be an integer ≥ 1, got ${limit}`)
  }

  /** Commands running now. */
  get running(): number {
    return this.active
  }

  /** Commands waiting for a slot (not started yet), over every batch. */
  get queued(): number {
    return this.waiting
  }

  /** Clients with commands waiting for a slot. */
  get waitingClients(): number {
    return this.clients.size
  }

  /**
   * Adds `count` commands of `batch`, a batch of `client` (compared as Map
   * keys: by value for strings, by identity for objects). They start at once
   * while slots are free, the rest in the fair order. The same batch object
   * must not be enqueued again while it has commands waiting. Returns its
   * place in the queue, for {@link withdraw}.
   */
  enqueue(client: K, batch: FairBatch, count: number): QueuedBatch | undefined {
    if (!(count > 0)) return undefined
    const node = new BatchNode(batch, count)
    const known = this.clients.get(client)
    if (known !== undefined) {
      // Its turn within the client is next.
      known.turn = insertBefore(node, known.turn)
    } else {
      const joining = new ClientNode(client, node)
      this.clients.set(client, joining)
      this.turn = insertBefore(joining, this.turn)
    }
    this.waiting += count
    // Free slots mean nothing else waited: what is started here is this batch.
    this.fill()
    return node
  }

  /**
   * Takes every waiting command of `client` out: none of them will start.
   * Returns how many there were. Its commands running now keep their slots
   * (see {@link detach}). Cost: one step per batch of that client with
   * commands waiting.
   */
  drop(client: K): number {
    const node = this.clients.get(client)
    if (node === undefined) return 0
    let dropped = 0
    let batch = node.turn
    do {
      dropped += batch.count - batch.next
      // Nothing of it is waiting any more: a later withdraw finds nothing to take.
      batch.next = batch.count
      batch = batch.after
    } while (batch !== node.turn)
    this.clients.delete(client)
    const after = unlink(node)
    if (this.turn === node) this.turn = after
    this.waiting -= dropped
    return dropped
  }

  /**
   * Takes the commands of one batch of `client` that have not started out of
   * the queue (`queued`, from its {@link enqueue}); none of them will start.
   * Returns how many there were: 0 when all have started or were dropped.
   * O(1).
   */
  withdraw(client: K, queued: QueuedBatch): number {
    const node = queued as BatchNode
    const left = node.count - node.next
    if (left <= 0) return 0
    node.next = node.count
    this.waiting -= left
    // Not started and not dropped: it is in the ring of this client's node.
    const owner = this.clients.get(client)!
    const after = unlink(node)
    if (after === undefined) {
      this.clients.delete(client)
      const nextClient = unlink(owner)
      if (this.turn === owner) this.turn = nextClient
    } else if (owner.turn === node) {
      owner.turn = after
    }
    return left
  }

  /**
   * Hands back the slots of `count` running commands now, before they end,
   * and starts waiting commands in them. Each of those commands must then
   * resolve with {@link DETACHED}, so that its end frees no second slot. For
   * commands that no longer count (cancelled) whose executor may ignore its
   * signal.
   */
  detach(count: number): void {
    if (!(count > 0)) return
    this.active -= count
    this.fill()
  }

  /**
   * Starts waiting commands while slots are free. A command's own code may
   * enqueue or detach as it starts (a command that gives its slot back at
   * once): then only the outermost call starts anything, in its loop, so
   * 100 000 such commands in a row do not nest 100 000 calls deep.
   */
  private fill(): void {
    if (this.filling) return
    this.filling = true
    try {
      while (this.active < this.limit && this.turn !== undefined) {
        this.active++
        this.startNext()
      }
    } finally {
      this.filling = false
    }
  }

  /** Starts the next command in turn and moves both cursors on. A slot is held for it. */
  private startNext(): void {
    const client = this.turn!
    const node = client.turn
    const index = node.next++
    if (node.next < node.count) {
      client.turn = node.after
      this.turn = client.after
    } else {
      // The batch has nothing left to start: it leaves its client's ring, and
      // a client with no batch left leaves the ring of clients.
      const nextBatch = unlink(node)
      if (nextBatch !== undefined) {
        client.turn = nextBatch
        this.turn = client.after
      } else {
        this.clients.delete(client.key)
        this.turn = unlink(client)
      }
    }
    this.waiting--
    // The state is final before the batch's code runs, so that code may enqueue.
    let running: PromiseLike<unknown> | undefined
    try {
      running = node.batch.startCommand(index, this.release)
    } catch {
      // A batch that throws instead of returning a promise still gives the slot back.
      queueMicrotask(this.release)
      return
    }
    running?.then(this.release, this.release)
  }

  /** Hands the freed slot to the next command in turn, or gives it back; a detached command's end frees nothing. */
  private readonly release = (ended?: unknown): void => {
    if (ended === DETACHED) return
    if (this.turn === undefined) this.active--
    else this.startNext()
  }
}

/** A node of a circular doubly linked ring. */
interface RingNode<T> {
  prev: T
  after: T
}

/**
 * Puts `node` in the ring just before `at` (the one whose turn was next) and
 * returns it: its turn is now next. With no ring yet, `node` alone is the ring.
 */
function insertBefore<T extends RingNode<T>>(node: T, at: T | undefined): T {
  if (at === undefined) return node
  node.prev = at.prev
  node.after = at
  at.prev.after = node
  at.prev = node
  return node
}

/** Takes `node` out of its ring; returns the one after it, or undefined when it was alone. */
function unlink<T extends RingNode<T>>(node: T): T | undefined {
  if (node.after === node) return undefined
  const after = node.after
  node.prev.after = after
  after.prev = node.prev
  node.prev = node.after = node
  return after
}
