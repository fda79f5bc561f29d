/**
 * The summary's numbers as a person reads them: `sent` is what was handed to
 * the socket, and the rate counts commands that finished (came back with an
 * outcome), never the lost ones.
 */
import { describe, expect, it } from 'vitest'
import { commandsPerSecond, finishedCommands, formatSummary, type RunSummary } from '../../src/client/summary.js'

const NONE = { ok: 0, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 }

function summary(overrides: Partial<RunSummary>): RunSummary {
  return {
    client: 'c',
    commands: 512,
    sent: 512,
    counts: { ...NONE, ok: 512 },
    states: { ok: 0, warning: 0, critical: 0, unknown: 0 },
    batches: 32,
    batchSize: 16,
    lostBatches: { unsent: 0, rejected: {}, noResult: 0, interrupted: 0 },
    total: 512,
    elapsedMs: 1000,
    badLines: 0,
    resends: 0,
    duplicates: 0,
    interrupted: false,
    failedOn: [],
    exitCode: 0,
    ...overrides,
  }
}

describe('a run whose gateway never accepted a batch', () => {
  const unsent = summary({
    sent: 0,
    counts: { ...NONE, lost: 512 },
    lostBatches: { unsent: 32, rejected: {}, noResult: 0, interrupted: 0 },
    total: 0,
    elapsedMs: 11_044,
    failedOn: ['lost'],
    exitCode: 1,
  })

  it('says 0 sent, beside the 512 read, instead of "512 sent"', () => {
    expect(formatSummary(unsent).split('\n')[0]).toBe('commands  512 read · 0 sent · 0 ok · 0 unknown · 0 failed · 0 timeout · 0 cancelled · 512 lost')
  })

  it('has a rate of 0 commands/s: lost commands are not work done', () => {
    expect(commandsPerSecond(unsent)).toBe(0)
    expect(formatSummary(unsent)).toContain('elapsed   11.044 s  (0 commands/s)')
  })
})

describe('the rate of a run with some lost commands', () => {
  it('counts ok, unknown, failed, timeout and cancelled, and not lost', () => {
    const counts = { ok: 100, unknown: 10, failed: 20, timeout: 30, cancelled: 40, lost: 512 }
    expect(finishedCommands(counts)).toBe(200)
    expect(commandsPerSecond({ counts, elapsedMs: 2000 })).toBe(100)
  })

  it('is 0, not Infinity, when no time passed', () => {
    expect(commandsPerSecond({ counts: { ...NONE, ok: 5 }, elapsedMs: 0 })).toBe(0)
  })
})

describe('the commands line', () => {
  it("keeps design.md's format when every command read was sent", () => {
    expect(formatSummary(summary({})).split('\n')[0]).toBe('commands  512 sent · 512 ok · 0 unknown · 0 failed · 0 timeout · 0 cancelled · 0 lost')
  })

  it('names both numbers after Ctrl+C stopped the sending part way', () => {
    const s = summary({ sent: 64, counts: { ...NONE, ok: 32, cancelled: 32, lost: 448 }, interrupted: true, exitCode: 130 })
    expect(formatSummary(s).split('\n')[0]).toMatch(/^commands {2}512 read · 64 sent · 32 ok .* 32 cancelled · 448 lost$/)
  })
})
