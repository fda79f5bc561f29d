/**
 * The worker's side of CGP/1 liveness and sessions (SessionPolicy), on fake
 * time: every call takes `now`, so each rule is checked at the millisecond
 * where it flips.
 */
import { describe, expect, it } from 'vitest'
import { SessionPolicy } from '../../src/worker/session-policy.js'

/** Interval 1000 ms, lost after 3 silent intervals, pauses up to 8000 ms; connected at t=0. */
function connectedAtZero(): SessionPolicy {
  const policy = new SessionPolicy(1000, 3, 8000)
  policy.startSession(0)
  return policy
}

describe('a worker connected to its gateway', () => {
  it('sends a heartbeat after one interval of sending nothing, not before', () => {
    const policy = connectedAtZero()
    policy.heard(900)
    expect(policy.tick(999)).toBe('wait')
    expect(policy.tick(1000)).toBe('heartbeat')
  })

  it('owes no heartbeat while it sends other messages (a done counts)', () => {
    const policy = connectedAtZero()
    policy.heard(1500)
    policy.sent(800)
    expect(policy.tick(1500)).toBe('wait')
    expect(policy.tick(1800)).toBe('heartbeat')
  })

  it('gives the gateway up after more than 3 intervals of hearing nothing, and not at exactly 3', () => {
    const policy = connectedAtZero()
    policy.sent(3000)
    expect(policy.tick(3000)).toBe('wait')
    expect(policy.tick(3001)).toBe('reconnect')
  })

  it('counts the silence from the last message heard, whatever it was', () => {
    const policy = connectedAtZero()
    policy.heard(2500)
    policy.sent(5000)
    expect(policy.tick(5500)).toBe('wait')
    expect(policy.tick(5501)).toBe('reconnect')
  })
})

describe('a worker that lost its gateway', () => {
  it('pauses one interval before the first reconnect, then twice as long after each loss, up to reconnectMaxMs', () => {
    const policy = connectedAtZero()
    const pauses: number[] = []
    for (let loss = 0; loss < 6; loss++) {
      pauses.push(policy.lost())
      policy.startSession(0)
    }
    expect(pauses).toEqual([1000, 2000, 4000, 8000, 8000, 8000])
  })

  it('pauses one interval again once it has heard from the gateway', () => {
    const policy = connectedAtZero()
    policy.lost()
    policy.lost()
    policy.startSession(10_000)
    policy.heard(10_100)
    expect(policy.lost()).toBe(1000)
  })

  it('sends nothing and decides nothing until it has connected again', () => {
    const policy = connectedAtZero()
    policy.lost()
    expect(policy.connected).toBe(false)
    expect(policy.tick(60_000)).toBe('wait')
    policy.startSession(60_000)
    expect(policy.tick(60_999)).toBe('wait')
    expect(policy.tick(61_000)).toBe('heartbeat')
  })
})

describe('sessions', () => {
  it('are numbered from 1, one more for every connection', () => {
    const policy = new SessionPolicy(1000, 3, 8000)
    expect(policy.session).toBe(0)
    expect(policy.startSession(0)).toBe(1)
    policy.lost()
    expect(policy.startSession(5000)).toBe(2)
    expect(policy.session).toBe(2)
  })

  it('answer no task of an older session with done: the gateway requeued it at the new ready', () => {
    const policy = connectedAtZero()
    const taskSession = policy.session
    expect(policy.isCurrent(taskSession)).toBe(true)
    policy.lost()
    // Between the loss and the next connection the task's session is still the latest one.
    expect(policy.isCurrent(taskSession)).toBe(true)
    policy.startSession(2000)
    expect(policy.isCurrent(taskSession)).toBe(false)
    expect(policy.isCurrent(policy.session)).toBe(true)
  })
})

describe('a worker that is stopping', () => {
  it('never gives the gateway up, so that it can still deliver and say bye, and keeps heartbeating', () => {
    const policy = connectedAtZero()
    policy.leave()
    expect(policy.tick(60_000)).toBe('heartbeat')
    policy.sent(60_000)
    expect(policy.tick(60_500)).toBe('wait')
  })
})
