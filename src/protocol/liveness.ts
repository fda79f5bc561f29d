/**
 * CGP/1 heartbeating, as one end sees its peer: send a heartbeat after
 * `intervalMs` of sending nothing, and count the peer as gone after
 * `liveness` intervals of hearing nothing. The gateway keeps one per worker,
 * and a worker keeps one for its gateway. Pure: every call takes `now`.
 */
export class Liveness {
  private lastHeard: number
  private lastSent: number

  constructor(
    readonly intervalMs: number,
    readonly liveness: number,
    now: number,
  ) {
    this.lastHeard = now
    this.lastSent = now
  }

  /** Anything arrived from the peer. */
  heard(now: number): void {
    this.lastHeard = now
  }

  /** Anything was sent to the peer (a heartbeat or any other message). */
  sent(now: number): void {
    this.lastSent = now
  }

  /** Milliseconds since the peer was last heard. */
  silentFor(now: number): number {
    return now - this.lastHeard
  }

  /** The peer has been silent for more than `liveness` intervals. */
  isLost(now: number): boolean {
    return now - this.lastHeard > this.intervalMs * this.liveness
  }

  /** Nothing went to the peer for a whole interval: a heartbeat is due. */
  heartbeatDue(now: number): boolean {
    return now - this.lastSent >= this.intervalMs
  }
}
