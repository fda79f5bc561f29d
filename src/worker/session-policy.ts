/**
 * When a worker heartbeats, gives up on its gateway and reconnects: the
 * decisions of {@link GatewaySession}, with no socket and no clock (every
 * call takes `now`), so that its tests step time by hand.
 *
 * - A heartbeat is due after one interval of sending nothing.
 * - The gateway is lost after `liveness` intervals of hearing nothing
 *   ({@link Liveness}, the module the gateway uses for its workers).
 * - A lost gateway is reconnected to after a pause that starts at one
 *   interval and doubles on every loss up to `reconnectMaxMs`; hearing from
 *   the gateway resets it, so one lost heartbeat costs one interval, and a
 *   gateway that is down is not hammered.
 * - Each connection is a session, numbered from 1: the gateway requeues what
 *   it handed out before a `ready`, so a batch from an older session must not
 *   be answered with `done`.
 * - Once leaving (stopping), the gateway is never given up on: the worker
 *   still finishes, delivers and says `bye` on the connection it has.
 */
import { Liveness } from '../protocol/liveness.js'

/** What a tick asks of the session. */
export type SessionTick = 'reconnect' | 'heartbeat' | 'wait'

export class SessionPolicy {
  private liveness: Liveness | undefined
  private sessionNumber = 0
  private pauseMs: number
  private isLeaving = false

  constructor(
    /** Heartbeat interval, in milliseconds. */
    readonly intervalMs: number,
    /** Silent intervals after which the gateway counts as lost. */
    readonly livenessIntervals: number,
    /** Longest pause between reconnects, in milliseconds. */
    readonly reconnectMaxMs: number,
  ) {
    this.pauseMs = intervalMs
  }

  /** The current session's number; 0 before the first connection. */
  get session(): number {
    return this.sessionNumber
  }

  /**
   * Whether a task that came in session `session` may still be answered with
   * `done`: not after a later `ready`, which made the gateway requeue it.
   */
  isCurrent(session: number): boolean {
    return session === this.sessionNumber
  }

  /** Whether a connection is up (made and not given up). */
  get connected(): boolean {
    return this.liveness !== undefined
  }

  get leaving(): boolean {
    return this.isLeaving
  }

  /** A connection was made (its `ready` goes next): returns the new session's number. */
  startSession(now: number): number {
    this.liveness = new Liveness(this.intervalMs, this.livenessIntervals, now)
    return ++this.sessionNumber
  }

  /** Anything arrived from the gateway. */
  heard(now: number): void {
    this.liveness?.heard(now)
    this.pauseMs = this.intervalMs
  }

  /** Anything was handed to the gateway connection. */
  sent(now: number): void {
    this.liveness?.sent(now)
  }

  /** Stopping began: keep the connection whatever the gateway's silence. */
  leave(): void {
    this.isLeaving = true
  }

  /** What to do at `now`. */
  tick(now: number): SessionTick {
    const liveness = this.liveness
    if (liveness === undefined) return 'wait'
    if (!this.isLeaving && liveness.isLost(now)) return 'reconnect'
    return liveness.heartbeatDue(now) ? 'heartbeat' : 'wait'
  }

  /**
   * The connection was given up: returns the pause before the next one, and
   * doubles the pause after that (up to `reconnectMaxMs`).
   */
  lost(): number {
    this.liveness = undefined
    const pause = this.pauseMs
    this.pauseMs = Math.min(this.pauseMs * 2, this.reconnectMaxMs)
    return pause
  }
}
