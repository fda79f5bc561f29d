/**
 * What a client shows (../shared/checks.md, "What a client shows"; CGP/1's
 * result codes), on made-up results: the tally's outcomes and check states,
 * a total without float noise, the `states` line, the JSONL records, and
 * `--fail-on`, from its parsing to the exit code it decides.
 */
import { describe, expect, it } from 'vitest'
import { DEFAULT_FAIL_ON, FAIL_ON_ITEMS, failuresOf, parseFailOn, readFailOn } from '../../src/client/fail-on.js'
import { resolveClientOptions } from '../../src/client/options.js'
import { checkMsOf, checkStateOf, outcomeOf } from '../../src/client/outcomes.js'
import { answeredRecords, lostRecords } from '../../src/client/records.js'
import type { ReceivedOutcome } from '../../src/client/results.js'
import { formatSummary, type RunSummary } from '../../src/client/summary.js'
import { ResultTally, withoutFloatNoise, type OutcomeCounts, type StateCounts } from '../../src/client/tally.js'
import type { CommandLine } from '../../src/data/commands-file.js'
import { ConfigError } from '../../src/errors.js'
import { clientSchema } from '../../src/options/client.js'
import { readConfigFile } from '../../src/options/config-file.js'
import { readEnv } from '../../src/options/env.js'
import { INVALID } from '../../src/options/kinds.js'
import { fixtures } from '../helpers/data.js'

const check = (state: number, ms = 3, output = `state ${state}`): Record<string, unknown> => ({ state, output, ms })
const NO_STATES: StateCounts = { ok: 0, warning: 0, critical: 0, unknown: 0 }
const NO_COUNTS: OutcomeCounts = { ok: 0, unknown: 0, failed: 0, timeout: 0, cancelled: 0, lost: 0 }

describe('a ResultTally given every code', () => {
  it('counts code 4 as cancelled and codes it does not know as failed', () => {
    const tally = new ResultTally()
    tally.recordOutcomes(1, [[0, 1], [1, null], [2, 'refused'], [3, null], [4, null], [4, null], [5, null], [99, 'later'], [7, { x: 1 }]])
    expect(tally.counts).toEqual({ ok: 1, unknown: 1, failed: 4, timeout: 1, cancelled: 2, lost: 0 })
    expect(tally.settled).toBe(9)
  })
})

describe('a ResultTally given check values', () => {
  it('counts the state of every code-0 check value, and each is also an ok', () => {
    const tally = new ResultTally()
    tally.recordOutcomes(1, [[0, check(0)], [0, check(0)], [0, check(1)], [0, check(2)], [0, check(3)]])
    tally.recordOutcomes(2, [[0, { state: 2, output: 'HTTP 503', perfdata: 'time=0.1s', ms: 4 }], [0, check(0)]])
    expect(tally.states).toEqual({ ok: 3, warning: 1, critical: 2, unknown: 1 })
    expect(tally.counts).toEqual({ ...NO_COUNTS, ok: 7 })
  })

  it('counts no state for values that are not check values, nor for a check-shaped value under another code', () => {
    const tally = new ResultTally()
    const notChecks: ReceivedOutcome[] = [
      [0, 1],
      [0, 'state 2'],
      [0, null],
      [0, [2, 'x']],
      [0, { state: 4, output: 'x', ms: 1 }],
      [0, { state: -1, output: 'x', ms: 1 }],
      [0, { state: 1.5, output: 'x', ms: 1 }],
      [0, { state: '1', output: 'x', ms: 1 }],
      [0, { state: 1, ms: 1 }],
      [0, { state: 1, output: 7, ms: 1 }],
      [9, check(2)],
    ]
    tally.recordOutcomes(1, notChecks)
    expect(tally.states).toEqual(NO_STATES)
    expect(tally.counts).toEqual({ ...NO_COUNTS, ok: 10, failed: 1 })
  })

  it('does not count the states of a duplicate result again', () => {
    const tally = new ResultTally()
    tally.recordOutcomes(1, [[0, check(1)]])
    tally.recordOutcomes(1, [[0, check(1)]])
    expect(tally.states.warning).toBe(1)
  })

  it('does not add check values to the total: it sums numeric values only', () => {
    const tally = new ResultTally()
    tally.recordOutcomes(1, [[0, check(0, 250)], [0, 2], [0, check(2, 1000)]])
    expect(tally.total).toBe(2)
  })
})

describe('the total', () => {
  it.each([
    { values: [2.2, 2.2, 0.05, 11.374], total: 15.824 },
    { values: [11.374, 0.05, 2.2, 2.2], total: 15.824 },
    { values: [0.1, 0.2], total: 0.3 },
    { values: [3.3, 3.3, 0.04, 9.184], total: 15.824 },
    { values: [-0.1, -0.2], total: -0.3 },
  ])('adds $values to $total, not to the float noise of a plain sum', ({ values, total }) => {
    // The plain sum really is noisy here: otherwise this test could not fail.
    expect(values.reduce((a, b) => a + b, 0)).not.toBe(total)
    const tally = new ResultTally()
    values.forEach((value, i) => tally.recordOutcomes(i + 1, [[0, value]]))
    expect(tally.total).toBe(total)
    expect(String(tally.total)).toBe(String(total))
  })

  it('does not drift over a million small fractions', () => {
    const tally = new ResultTally()
    for (let seq = 1; seq <= 1000; seq++) tally.recordOutcomes(seq, Array.from({ length: 1000 }, (): ReceivedOutcome => [0, 0.001]))
    expect(tally.total).toBe(1000)
  })

  it('keeps a large integer sum exact, which rounding to 15 digits would change', () => {
    const tally = new ResultTally()
    tally.recordOutcomes(1, [[0, 4_000_000_000_000_001], [0, 3]])
    expect(tally.total).toBe(4_000_000_000_000_004)
    expect(withoutFloatNoise(4_000_000_000_000_004)).toBe(4_000_000_000_000_004)
  })

  it('is printed without noise by formatSummary even when a caller passes a noisy number', () => {
    expect(formatSummary(summary({ total: 0.1 + 0.2 })).split('\n')).toContain('total     0.3')
  })
})

describe('outcomeOf and the check value readers', () => {
  it.each([
    [0, 'ok'],
    [1, 'unknown'],
    [2, 'failed'],
    [3, 'timeout'],
    [4, 'cancelled'],
    [5, 'failed'],
    [1000, 'failed'],
  ] as const)('names code %i %s', (code, outcome) => {
    expect(outcomeOf(code)).toBe(outcome)
  })

  it('reads a check value state and ms, and nothing from other values', () => {
    expect(checkStateOf(check(3))).toBe(3)
    expect(checkMsOf(check(1, 12.5))).toBe(12.5)
    expect(checkMsOf({ state: 1, output: 'x' })).toBeUndefined()
    expect(checkMsOf({ state: 1, output: 'x', ms: -1 })).toBeUndefined()
    expect(checkMsOf({ ms: 5 })).toBeUndefined()
    expect(checkStateOf(Buffer.from('x'))).toBeUndefined()
  })
})

const COMMANDS: CommandLine[] = [
  { line: 3, address: '10.0.0.1', command: 'ssh' },
  { line: 4, address: '10.0.0.2', command: 'web' },
  { line: 7, address: 'db.example', command: 'pgsql' },
  { line: 9, address: '::1', command: 'foo' },
  { line: 10, address: '10.0.0.3', command: 'bar' },
  { line: 12, address: '10.0.0.4', command: 'baz' },
  { line: 13, address: '10.0.0.5', command: 'qux' },
]

describe('answeredRecords', () => {
  const outcomes: ReceivedOutcome[] = [[0, check(2, 41.5, 'HTTP 503')], [0, 17], [1, null], [2, 'refused'], [3, null], [4, null], [8, 'later']]
  const records = answeredRecords(COMMANDS, outcomes, { worker: 'worker-7', roundTripMs: 12.3456789 })

  it('has every field of checks.md, in its order, and JSON.stringify writes them so', () => {
    expect(JSON.stringify(records[0])).toBe(
      '{"line":3,"address":"10.0.0.1","command":"ssh","code":0,"outcome":"ok","value":{"state":2,"output":"HTTP 503","ms":41.5},"ms":41.5,"worker":"worker-7"}',
    )
  })

  it("names each code's outcome, a code it does not know failed, keeping the code as it came", () => {
    expect(records.map((r) => [r.code, r.outcome])).toEqual([
      [0, 'ok'],
      [0, 'ok'],
      [1, 'unknown'],
      [2, 'failed'],
      [3, 'timeout'],
      [4, 'cancelled'],
      [8, 'failed'],
    ])
  })

  it("gives a check value's own ms, and the round trip to the microsecond for every other", () => {
    expect(records.map((r) => r.ms)).toEqual([41.5, 12.346, 12.346, 12.346, 12.346, 12.346, 12.346])
    expect(records.every((r) => r.worker === 'worker-7')).toBe(true)
  })
})

describe('lostRecords', () => {
  it('has the same fields, with outcome lost, null code, value, ms and worker, and the reason', () => {
    const [record] = lostRecords(COMMANDS.slice(0, 1), { cause: 'rejected', reason: 'too-large' })
    expect(JSON.stringify(record)).toBe(
      '{"line":3,"address":"10.0.0.1","command":"ssh","code":null,"outcome":"lost","value":null,"ms":null,"worker":null,"lost":"rejected too-large"}',
    )
  })
})

function summary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    client: 'c',
    commands: 512,
    counts: { ...NO_COUNTS, ok: 512 },
    states: NO_STATES,
    batches: 32,
    batchSize: 16,
    lostBatches: { unsent: 0, rejected: {}, noResult: 0, interrupted: 0 },
    total: 0,
    elapsedMs: 1000,
    badLines: 0,
    resends: 0,
    duplicates: 0,
    interrupted: false,
    failedOn: [],
    exitCode: 0,
    ...overrides,
    // Every command read was sent unless a test says otherwise.
    sent: overrides.sent ?? overrides.commands ?? 512,
  }
}

describe('formatSummary of a run of checks', () => {
  it("prints checks.md's states line right under the commands line, cancelled among the counts", () => {
    const s = summary({
      commands: 520,
      batches: 33,
      counts: { ok: 512, unknown: 1, failed: 2, timeout: 3, cancelled: 2, lost: 0 },
      states: { ok: 480, warning: 20, critical: 10, unknown: 2 },
    })
    expect(formatSummary(s).split('\n').slice(0, 3)).toEqual([
      'commands  520 sent · 512 ok · 1 unknown · 2 failed · 3 timeout · 2 cancelled · 0 lost',
      'states    480 ok · 20 warning · 10 critical · 2 unknown',
      'batches   33 × 16 (last 8)',
    ])
  })

  it('prints a states line when a single check came back, even an OK one', () => {
    expect(formatSummary(summary({ states: { ...NO_STATES, ok: 1 } }))).toMatch(/^states {4}1 ok · 0 warning · 0 critical · 0 unknown$/m)
  })

  it('prints no states line when no check value came back', () => {
    expect(formatSummary(summary())).not.toMatch(/^states/m)
  })
})

describe('parsing --fail-on', () => {
  it("defaults to checks.md's lost,unknown,failed,timeout", () => {
    expect(DEFAULT_FAIL_ON).toEqual(['lost', 'unknown', 'failed', 'timeout'])
    expect(resolveClientOptions({}).failOn).toEqual(['lost', 'unknown', 'failed', 'timeout'])
  })

  it.each([
    { text: 'lost', items: ['lost'] },
    { text: 'lost,state:warning', items: ['lost', 'state:warning'] },
    { text: ' timeout , cancelled  state:critical,', items: ['timeout', 'cancelled', 'state:critical'] },
    { text: 'ok,unknown,failed,timeout,cancelled,lost,state:warning,state:critical,state:unknown', items: [...FAIL_ON_ITEMS] },
    { text: 'lost,lost,unknown', items: ['lost', 'unknown'] },
    { text: '', items: [] },
  ])('reads "$text"', ({ text, items }) => {
    expect(parseFailOn(text)).toEqual(items)
    expect(clientSchema.failOn.kind.fromText(text)).toEqual(items)
  })

  it.each(['warning', 'state:ok', 'State:warning', 'LOST', 'lost;unknown', 'state:', 'rejected', 'lost,bogus'])('refuses "%s"', (text) => {
    expect(parseFailOn(text)).toBeUndefined()
    expect(clientSchema.failOn.kind.fromText(text)).toBe(INVALID)
  })

  it('takes an array or a string from a library call or a config file, and refuses anything else', () => {
    const kind = clientSchema.failOn.kind
    expect(kind.fromValue(['state:unknown', 'lost'])).toEqual(['state:unknown', 'lost'])
    expect(kind.fromValue('lost,timeout')).toEqual(['lost', 'timeout'])
    expect(kind.fromValue([])).toEqual([])
    for (const bad of [['lost', 7], ['nope'], 3, { lost: true }, null]) expect(kind.fromValue(bad)).toBe(INVALID)
    expect(readFailOn(['cancelled'])).toEqual(['cancelled'])
  })

  it('names the bad value and every valid item, from a library call, the environment and a config file', async () => {
    const valid = 'ok, unknown, failed, timeout, cancelled, lost, state:warning, state:critical, state:unknown'
    expect(() => resolveClientOptions({ failOn: ['lost', 'bogus'] as never })).toThrow(new ConfigError('ERR_INVALID_OPTION', `failOn must be a comma-separated list of ${valid}, got ["lost","bogus"]`))
    expect(() => readEnv(clientSchema, { CGW_FAIL_ON: 'lost,bogus' })).toThrow(`CGW_FAIL_ON must be a comma-separated list of ${valid}, got "lost,bogus"`)
    expect(readEnv(clientSchema, { CGW_FAIL_ON: 'state:critical' }).values.failOn).toEqual(['state:critical'])
    const files = await fixtures()
    try {
      const good = await files.write('good.toml', ['fail-on = ["lost", "state:warning"]'])
      expect(readConfigFile(clientSchema, good, 'run-client').failOn).toEqual(['lost', 'state:warning'])
      const bad = await files.write('bad.toml', ['fail-on = "lost,warning"'])
      expect(() => readConfigFile(clientSchema, bad, 'run-client')).toThrow(`${bad}:1: fail-on must be a comma-separated list of ${valid}, got "lost,warning"`)
    } finally {
      await files.remove()
    }
  })
})

describe('what --fail-on makes of a run', () => {
  const counts = { ...NO_COUNTS, ok: 10, unknown: 1, cancelled: 2 }
  const states = { ...NO_STATES, ok: 8, warning: 2 }

  it.each([
    { failOn: DEFAULT_FAIL_ON, failures: ['unknown'] },
    { failOn: ['lost', 'failed', 'timeout'] as const, failures: [] },
    { failOn: ['state:critical', 'state:unknown'] as const, failures: [] },
    { failOn: ['state:critical', 'state:warning', 'cancelled'] as const, failures: ['state:warning', 'cancelled'] },
    { failOn: ['ok'] as const, failures: ['ok'] },
    { failOn: [] as const, failures: [] },
  ])('with $failOn it fails on $failures', ({ failOn, failures }) => {
    expect(failuresOf(failOn, counts, states)).toEqual(failures)
  })

  it('fails on lost commands only when lost is listed', () => {
    expect(failuresOf(['lost'], { ...NO_COUNTS, lost: 1 }, NO_STATES)).toEqual(['lost'])
    expect(failuresOf(['unknown', 'state:warning'], { ...NO_COUNTS, lost: 1 }, NO_STATES)).toEqual([])
  })
})
