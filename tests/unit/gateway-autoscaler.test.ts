/**
 * When the gateway forks and retires workers, as a specification: the
 * autoscaler is pure, so every case is a table of counts on fake time.
 */
import { describe, expect, it } from 'vitest'
import { Autoscaler, type AutoscalerOptions, type Demand, type IdleCandidate } from '../../src/gateway/autoscaler.js'

const options: AutoscalerOptions = { minWorkers: 1, maxWorkers: 4, idleTimeoutMs: 60_000, graceMs: 10_000 }
const idle: Demand = { waiting: false, secondRunsWaiting: 0, hasCredit: true }
const busy: Demand = { waiting: true, secondRunsWaiting: 0, hasCredit: false }

function worker(id: string, idleSince: number, holding = 0, forked = true): IdleCandidate {
  return { id, forked, holding, idleSince }
}

describe('an autoscaler forking workers', () => {
  it('forks up to minWorkers whatever the demand', () => {
    const scaler = new Autoscaler({ ...options, minWorkers: 3 })
    expect(scaler.toFork({ forked: 0, starting: 0 }, idle)).toBe(3)
    expect(scaler.toFork({ forked: 2, starting: 2 }, idle)).toBe(1)
    expect(scaler.toFork({ forked: 3, starting: 3 }, idle)).toBe(0)
  })

  it('does not count retiring workers toward minWorkers: they are leaving', () => {
    const scaler = new Autoscaler({ ...options, minWorkers: 1, idleTimeoutMs: 10 })
    expect(scaler.retire(100, { forked: 2, starting: 0 }, [worker('a', 0)])).toHaveLength(1)
    expect(scaler.toFork({ forked: 1, starting: 0 }, idle)).toBe(1)
  })

  it.each([
    ['work waits and no worker has credit', { forked: 1, starting: 0 }, busy, 1],
    ['nothing waits', { forked: 1, starting: 0 }, idle, 0],
    ['work waits but a worker has credit', { forked: 1, starting: 0 }, { ...busy, hasCredit: true }, 0],
    ['a second run waits, which no free worker may take', { forked: 1, starting: 0 }, { waiting: true, secondRunsWaiting: 1, hasCredit: true }, 1],
    ['a worker is still starting', { forked: 2, starting: 1 }, busy, 0],
    ['the pool is at maxWorkers', { forked: 4, starting: 0 }, busy, 0],
  ])('beyond minWorkers forks one at a time only when needed: %s', (_, pool, demand, expected) => {
    expect(new Autoscaler(options).toFork(pool, demand)).toBe(expected)
  })
})

describe('an autoscaler retiring idle workers', () => {
  it('retires forked workers idle for idleTimeoutMs, in order, down to minWorkers', () => {
    const scaler = new Autoscaler({ ...options, minWorkers: 1 })
    const workers = [worker('a', 0), worker('b', 0), worker('c', 0)]
    expect(scaler.retire(59_999, { forked: 3, starting: 0 }, workers)).toEqual([])
    const retired = scaler.retire(60_000, { forked: 3, starting: 0 }, workers)
    expect(retired.map((r) => [r.worker.id, r.idleMs])).toEqual([['a', 60_000], ['b', 60_000]])
    expect([scaler.retiringCount, scaler.isRetiring('a'), scaler.isRetiring('c')]).toEqual([2, true, false])
    // Still at minWorkers once the retiring ones are left out: none more.
    expect(scaler.retire(120_000, { forked: 3, starting: 0 }, workers.slice(2))).toEqual([])
  })

  it('never retires a worker that holds something, a remote one, or any when idleTimeoutMs is 0', () => {
    const scaler = new Autoscaler({ ...options, minWorkers: 0 })
    const candidates = [worker('holds', 0, 1), worker('remote', 0, 0, false)]
    expect(scaler.retire(1e9, { forked: 3, starting: 0 }, candidates)).toEqual([])
    const never = new Autoscaler({ ...options, minWorkers: 0, idleTimeoutMs: 0 })
    expect(never.retire(1e9, { forked: 3, starting: 0 }, [worker('a', 0)])).toEqual([])
  })

  it('has a retired worker killed once graceMs has passed, again on every check, until its process exits', () => {
    const scaler = new Autoscaler({ ...options, minWorkers: 0 })
    scaler.retire(60_000, { forked: 1, starting: 0 }, [worker('a', 0)])
    expect(scaler.overdue(70_000)).toEqual([])
    expect(scaler.overdue(70_001)).toEqual(['a'])
    expect(scaler.overdue(80_000)).toEqual(['a'])
    scaler.exited('a')
    expect([scaler.overdue(90_000), scaler.retiringCount, scaler.isRetiring('a')]).toEqual([[], 0, false])
  })
})
