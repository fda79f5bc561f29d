/**
 * What run-client shows (../shared/checks.md, "What a client shows"), typed
 * as a user would, against a real run-server whose forked worker runs
 * tests/fixtures/check-states-executor.mjs: check values in every state, the
 * other outcomes, and numbers whose plain sum is float noise. Covers the
 * `states` line, the total, every JSONL field of each outcome (`lost` from a
 * gateway that is not there), and the exit codes of `--fail-on`.
 */
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { childPids, expectAllGone, freePort, startCli, waitFor, type RunningCli } from '../helpers/processes.js'

const EXECUTOR = 'tests/fixtures/check-states-executor.mjs'

/** Every outcome but cancelled and lost; 3 numbers of n1..n4 in one batch, the last in another. */
const EVERYTHING = [
  '10.0.0.1:ok',
  '10.0.0.2:ok',
  '10.0.0.3:warn',
  '10.0.0.4:crit',
  '10.0.0.5:unk',
  '10.0.0.6:n1',
  '10.0.0.7:n2',
  '10.0.0.8:n3',
  '# a comment line: the records keep file lines',
  '10.0.0.9:n4',
  '10.0.0.10:nosuch',
  '10.0.0.11:fail',
  '10.0.0.12:slow',
]

let files: Fixtures
let server: RunningCli
let endpoint: string
const clis: RunningCli[] = []
const workers: number[] = []

beforeAll(async () => {
  files = await fixtures()
  server = startCli('run-server', ['--executor', EXECUTOR, '-b', 'tcp://127.0.0.1:*', '-w', '1', '--log-level', 'warn'])
  await waitFor(() => server.stdout().includes('listening ') || server.child.exitCode !== null, 'run-server to listen')
  const match = /listening (\S+)/.exec(server.stdout())
  if (match === null) throw new Error(`run-server exited ${server.child.exitCode}: ${server.stderr()}`)
  endpoint = match[1]!
})

afterAll(async () => {
  workers.push(...childPids(server.pid))
  server.child.kill('SIGINT')
  expect((await server.exited).code).toBe(0)
  await expectAllGone([server.pid, ...workers, ...clis.map((cli) => cli.pid)], 5000)
  await files.remove()
})

async function client(lines: readonly string[], args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const commands = await files.write(`commands-${clis.length}.txt`, lines)
  const cli = startCli('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '-s', endpoint, '-n', '4', ...args], { env })
  clis.push(cli)
  const { code } = await cli.exited
  return { code, stdout: cli.stdout(), stderr: cli.stderr() }
}

interface Line {
  [field: string]: unknown
  line: number
}

async function jsonl(path: string): Promise<Line[]> {
  const lines = (await readFile(path, 'utf8')).trimEnd().split('\n')
  return lines.map((line) => JSON.parse(line) as Line).sort((a, b) => a.line - b.line)
}

describe('a run of checks and other commands, with the default --fail-on', () => {
  let run: { code: number | null; stdout: string; stderr: string }
  let records: Line[]

  beforeAll(async () => {
    const output = `${files.dir}/everything.jsonl`
    run = await client(EVERYTHING, ['--output', output])
    records = await jsonl(output)
  })

  it('exits 1: an unknown, a failed and a timeout are in lost,unknown,failed,timeout', () => {
    expect(run.code, run.stderr).toBe(1)
  })

  it('prints the counts with cancelled, the states line, and the total 15.824 without float noise', () => {
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines.slice(0, 4)).toEqual([
      'commands  12 sent · 9 ok · 1 unknown · 1 failed · 1 timeout · 0 cancelled · 0 lost',
      'states    2 ok · 1 warning · 1 critical · 1 unknown',
      'batches   3 × 4',
      'total     15.824',
    ])
    expect(lines[4]).toMatch(/^elapsed {3}\d+\.\d{3} s {2}\(\d+ commands\/s\)$/)
    expect(lines).toHaveLength(5)
  })

  it('writes every field of checks.md on each line, in its order', () => {
    expect(records).toHaveLength(12)
    for (const record of records) expect(Object.keys(record)).toEqual(['line', 'address', 'command', 'code', 'outcome', 'value', 'ms', 'worker'])
  })

  it("gives a check value as it came, its own ms, and the worker's id", () => {
    const warn = records.find((r) => r.command === 'warn')!
    expect(warn).toEqual({
      line: 3,
      address: '10.0.0.3',
      command: 'warn',
      code: 0,
      outcome: 'ok',
      value: { state: 1, output: 'WARN - 10.0.0.3', perfdata: 'load=9.1;5;10', ms: 2.5 },
      ms: 2.5,
      worker: expect.stringMatching(/\S/),
    })
    expect(records.filter((r) => typeof r.value === 'object' && r.value !== null).map((r) => [r.command, r.ms])).toEqual([
      ['ok', 1.5],
      ['ok', 1.5],
      ['warn', 2.5],
      ['crit', 3.5],
      ['unk', 4.5],
    ])
  })

  it('names the outcome of each code, and times the others by the round trip', () => {
    expect(records.map((r) => [r.line, r.command, r.code, r.outcome, r.value])).toEqual([
      [1, 'ok', 0, 'ok', expect.anything()],
      [2, 'ok', 0, 'ok', expect.anything()],
      [3, 'warn', 0, 'ok', expect.anything()],
      [4, 'crit', 0, 'ok', expect.anything()],
      [5, 'unk', 0, 'ok', expect.anything()],
      [6, 'n1', 0, 'ok', 2.2],
      [7, 'n2', 0, 'ok', 2.2],
      [8, 'n3', 0, 'ok', 0.05],
      [10, 'n4', 0, 'ok', 11.374],
      [11, 'nosuch', 1, 'unknown', null],
      [12, 'fail', 2, 'failed', 'refused by 10.0.0.11'],
      [13, 'slow', 3, 'timeout', null],
    ])
    for (const record of records.filter((r) => typeof r.value !== 'object' || r.value === null)) {
      expect(record.ms, String(record.command)).toBeGreaterThan(0)
      expect(record.ms, String(record.command)).toBeLessThan(30_000)
    }
    // One worker served the run.
    expect(new Set(records.map((r) => r.worker)).size).toBe(1)
  })
})

describe('--fail-on', () => {
  it('lost: the same run exits 0, since nothing was lost', async () => {
    const { code, stdout } = await client(EVERYTHING, ['--fail-on', 'lost'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^states {4}2 ok · 1 warning · 1 critical · 1 unknown$/m)
  })

  it('state:warning exits 1 on a WARNING check, though every command was answered', async () => {
    const { code, stdout } = await client(['10.0.0.1:ok', '10.0.0.2:warn'], ['--fail-on', 'state:warning'])
    expect(code).toBe(1)
    expect(stdout).toMatch(/^states {4}1 ok · 1 warning · 0 critical · 0 unknown$/m)
  })

  it('state:critical,state:unknown exits 0 when the worst state is a WARNING, also from CGW_FAIL_ON', async () => {
    expect((await client(['10.0.0.1:ok', '10.0.0.2:warn'], ['--fail-on', 'state:critical,state:unknown'])).code).toBe(0)
    expect((await client(['10.0.0.1:ok', '10.0.0.2:warn', '10.0.0.3:crit'], [], { CGW_FAIL_ON: 'state:critical' })).code).toBe(1)
  })

  it('default: checks in bad states alone exit 0, as checks that ran are answered commands', async () => {
    const { code, stdout } = await client(['10.0.0.1:crit', '10.0.0.2:unk', '10.0.0.3:warn'], ['--json'])
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ states: { ok: 0, warning: 1, critical: 1, unknown: 1 }, failedOn: [], exitCode: 0 })
  })

  it('--json says which items failed the run', async () => {
    const { code, stdout } = await client(EVERYTHING, ['--json', '--fail-on', 'timeout,state:warning,state:critical,cancelled'])
    expect(code).toBe(1)
    expect(JSON.parse(stdout)).toMatchObject({ total: 15.824, failedOn: ['timeout', 'state:warning', 'state:critical'], exitCode: 1 })
  })

  it('a bad item is a usage error (exit 2) that names the value and lists the valid ones, and nothing is sent', async () => {
    const { code, stdout, stderr } = await client(['10.0.0.1:ok'], ['--fail-on', 'lost,state:warn'])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toContain('"lost,state:warn"')
    expect(stderr).toContain('ok, unknown, failed, timeout, cancelled, lost, state:warning, state:critical, state:unknown')
  })
})

describe('commands lost to a gateway that is not there', () => {
  const dead = async (): Promise<string[]> => ['-s', `tcp://127.0.0.1:${await freePort()}`, '--send-retries', '0', '--retry-delay', '100']

  it('are lost lines with null code, value, ms and worker and the reason, and exit 1 by default', async () => {
    const output = `${files.dir}/lost.jsonl`
    // Not through client(), whose -s names the live gateway.
    const commands = await files.write('lost.txt', ['10.0.0.1:ok', '10.0.0.2:warn'])
    const cli = startCli('run-client', [commands, '-b', 'tcp://127.0.0.1:*', ...(await dead()), '--output', output])
    clis.push(cli)
    const { code } = await cli.exited
    expect(code, cli.stderr()).toBe(1)
    expect(cli.stdout()).toMatch(/^commands {2}2 read · 0 sent · 0 ok · 0 unknown · 0 failed · 0 timeout · 0 cancelled · 2 lost$/m)
    expect(cli.stdout()).not.toMatch(/^states/m)
    expect(await jsonl(output)).toEqual([
      { line: 1, address: '10.0.0.1', command: 'ok', code: null, outcome: 'lost', value: null, ms: null, worker: null, lost: 'unsent' },
      { line: 2, address: '10.0.0.2', command: 'warn', code: null, outcome: 'lost', value: null, ms: null, worker: null, lost: 'unsent' },
    ])
  })

  it('exit 0 when --fail-on does not list lost', async () => {
    const commands = await files.write('lost-ok.txt', ['10.0.0.1:ok'])
    const cli = startCli('run-client', [commands, '-b', 'tcp://127.0.0.1:*', ...(await dead()), '--fail-on', 'unknown,failed,timeout'])
    clis.push(cli)
    expect((await cli.exited).code, cli.stderr()).toBe(0)
    expect(cli.stdout()).toMatch(/· 1 lost$/m)
  })
})
