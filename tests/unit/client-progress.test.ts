/**
 * run-client's progress line (src/client/progress.ts) on fake time: the
 * percentage and ETA appear once the input is read, the rate is of finished
 * commands over a sliding window (not since the start), and lost commands
 * never count as speed.
 */
import { describe, expect, it } from 'vitest'
import { ProgressMeter, formatDuration, formatProgress, type ProgressCounters } from '../../src/client/progress.js'

function fakeMeter(): { meter: ProgressMeter; clock: { now: number } } {
  const clock = { now: 0 }
  return { meter: new ProgressMeter({ clock: () => clock.now, windowMs: 5000, minSpanMs: 1000 }), clock }
}

const counters = (overrides: Partial<ProgressCounters>): ProgressCounters => ({ read: 0, inputDone: false, finished: 0, answered: 0, inFlight: 0, ...overrides })

describe('the progress line while the input is still being read', () => {
  it('shows done/read+ and neither a percentage nor an ETA', () => {
    const { meter, clock } = fakeMeter()
    meter.read(counters({}))
    clock.now = 2000
    const line = formatProgress(meter.read(counters({ read: 4096, finished: 1000, answered: 1000, inFlight: 16 })))
    expect(line).toBe('1000/4096+ commands · 500 commands/s · 16 batches in flight')
    expect(line).not.toMatch(/%|ETA/)
  })
})

describe('the progress line once the input is read', () => {
  it('shows done/total, the percentage, the rate, the ETA and the batches in flight', () => {
    const { meter, clock } = fakeMeter()
    meter.read(counters({ read: 1000, inputDone: true }))
    clock.now = 2000
    expect(formatProgress(meter.read(counters({ read: 1000, inputDone: true, finished: 400, answered: 400, inFlight: 256 })))).toBe(
      '400/1000 commands (40 %) · 200 commands/s · ETA 00:03 · 256 batches in flight',
    )
  })

  it('rounds the percentage down: 100 % only when every command is done', () => {
    const { meter } = fakeMeter()
    expect(meter.read(counters({ read: 1000, inputDone: true, finished: 999, answered: 999 })).percent).toBe(99)
    expect(meter.read(counters({ read: 1000, inputDone: true, finished: 1000, answered: 1000 })).percent).toBe(100)
  })

  it('shows ETA --:-- while nothing finishes, and a dash-free rate only after a second of samples', () => {
    const { meter, clock } = fakeMeter()
    const first = meter.read(counters({ read: 10, inputDone: true }))
    expect(formatProgress(first)).toBe('0/10 commands (0 %) · … commands/s · ETA --:-- · 0 batches in flight')
    clock.now = 1500
    expect(formatProgress(meter.read(counters({ read: 10, inputDone: true, inFlight: 1 })))).toBe('0/10 commands (0 %) · 0.0 commands/s · ETA --:-- · 1 batch in flight')
  })
})

describe('the rate', () => {
  it('is of the last few seconds, not since the start: a run that slows down shows its new speed', () => {
    const { meter, clock } = fakeMeter()
    let answered = 0
    // 10 s at 1000/s, then 10 s at 100/s, sampled every 100 ms as run-client draws.
    for (; clock.now <= 20_000; clock.now += 100) {
      answered += clock.now <= 10_000 ? 100 : 10
      meter.read(counters({ read: 100_000, answered, finished: answered }))
    }
    const rate = meter.read(counters({ read: 100_000, answered, finished: answered })).rate!
    expect(rate).toBeGreaterThan(95)
    expect(rate).toBeLessThan(105)
  })

  it('never counts lost commands: 512 lost in a second is not 512 commands/s', () => {
    const { meter, clock } = fakeMeter()
    meter.read(counters({ read: 512, inputDone: true }))
    clock.now = 1000
    const reading = meter.read(counters({ read: 512, inputDone: true, finished: 512, answered: 0 }))
    expect([reading.rate, reading.percent, reading.etaMs]).toEqual([0, 100, undefined])
  })

  it('gives the ETA from the windowed rate and what is left', () => {
    const { meter, clock } = fakeMeter()
    meter.read(counters({ read: 10_000, inputDone: true }))
    clock.now = 4000
    const reading = meter.read(counters({ read: 10_000, inputDone: true, finished: 2000, answered: 2000 }))
    expect([reading.rate, reading.etaMs]).toEqual([500, 16_000])
  })

  it('keeps a dozen samples, however long the run', () => {
    const { meter, clock } = fakeMeter()
    for (; clock.now < 3_600_000; clock.now += 100) meter.read(counters({ read: 1, answered: clock.now, finished: clock.now }))
    expect((meter as unknown as { samples: unknown[] }).samples.length).toBeLessThanOrEqual(12)
  })
})

describe('waiting for a gateway', () => {
  it('leads the line with the endpoint and the seconds waited, escaped', () => {
    const { meter, clock } = fakeMeter()
    clock.now = 5400
    const line = formatProgress(meter.read(counters({ read: 512, inputDone: true, waiting: { endpoint: 'tcp://127.0.0.1:5557\x1b[2J', sinceMs: 1000 } })))
    expect(line).toBe('waiting for tcp://127.0.0.1:5557\\x1b[2J … 4 s · 0/512 commands (0 %) · … commands/s · ETA --:-- · 0 batches in flight')
  })
})

describe('formatDuration', () => {
  it.each([
    [0, '00:00'],
    [1, '00:01'],
    [59_001, '01:00'],
    [754_000, '12:34'],
    [3_600_000, '1:00:00'],
    [37_230_000, '10:20:30'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })
})

describe('a ProgressMeter given a window it cannot use', () => {
  it('throws a TypeError naming both numbers', () => {
    expect(() => new ProgressMeter({ windowMs: 1000, minSpanMs: 2000 })).toThrow(/windowMs 1000, minSpanMs 2000/)
  })
})

describe('a total counted ahead of the reading (run-client counts a regular file)', () => {
  it('gives the percentage and the ETA while the input is still being read', () => {
    const { meter, clock } = fakeMeter()
    meter.read(counters({ expected: 10_000 }))
    clock.now = 2000
    const line = formatProgress(meter.read(counters({ read: 4096, finished: 1000, answered: 1000, inFlight: 16, expected: 10_000 })))
    expect(line).toBe('1000/10000 commands (10 %) · 500 commands/s · ETA 00:18 · 16 batches in flight')
  })

  it('never shows less than what was read, and gives way to the real total once the input ends', () => {
    const { meter } = fakeMeter()
    expect(meter.read(counters({ read: 600, expected: 512 })).total).toBe(600)
    // Bad lines are in the count but not in the run: the end of the input corrects it.
    expect(meter.read(counters({ read: 500, inputDone: true, expected: 512 })).total).toBe(500)
  })
})
