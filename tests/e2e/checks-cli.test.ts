/**
 * `--checks FILE` on the real CLIs: each mistake in a checks file stops
 * run-server and run-worker before they bind or connect (exit 2), with one
 * line naming the file, the check and the value; --checks excludes
 * --executor; the flag, CGW_CHECKS and the config key `checks` all name it;
 * beside --map, exact map pairs answer first.
 */
import { chmod, readFile } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { listening, trackedClis } from '../helpers/cli-session.js'
import { fixtures, type Fixtures } from '../helpers/data.js'


let files: Fixtures
const clis = trackedClis('SIGINT')
const { start, run } = clis

beforeEach(async () => {
  files = await fixtures()
})

afterEach(async () => {
  await clis.stopAll()
  await files.remove()
})

const TARGETS = 'targets = ["127.0.0.0/8"]'

/** A checks file named checks.toml in the test's directory, with a plugin beside it (executable) and one that is not. */
async function checksFile(lines: readonly string[]): Promise<string> {
  await chmod(await files.write('plugin.sh', ['#!/bin/sh', 'echo OK', 'exit 0']), 0o755)
  await chmod(await files.write('not-executable.sh', ['#!/bin/sh', 'exit 0']), 0o644)
  return files.write('checks.toml', lines)
}

describe('each mistake in a checks file: exit 2 before binding, one line naming the file, the check and the value', () => {
  // [what, file lines, the message after "<file>: ", and what else the line says]
  const cases: [string, string[], string, string?][] = [
    ['an unknown key', [TARGETS, '[check.web]', 'tcp = 80', 'timout = "3s"'], 'check "web": unknown key "timout" = "3s"'],
    ['a check with no kind', [TARGETS, '[check.web]', 'timeout = "3s"'], 'check "web": no kind: give exactly one of exec, tcp or http'],
    ['a check with two kinds', [TARGETS, '[check.web]', 'tcp = 80', 'http = "http://{address}/"'], 'check "web": 2 kinds (tcp, http)'],
    ['a bad duration', [TARGETS, '[check.web]', 'tcp = 80', 'timeout = "3x"'], 'check "web": timeout "3x" is not a duration (250ms, 3s, 1m)'],
    ['a bad rate', [TARGETS, '[check.web]', 'tcp = 80', 'rate = "9/h"'], 'check "web": rate "9/h" is not a rate'],
    ['a bad CIDR', ['targets = ["10.0.0.0/33"]', '[check.web]', 'tcp = 80'], 'targets: "10.0.0.0/33" is not a CIDR block'],
    ['an exec program that does not exist', [TARGETS, '[check.plugin]', 'exec = ["/nowhere/check_nothing", "-H", "{address}"]'], 'check "plugin": exec program "/nowhere/check_nothing" does not exist'],
    ['an exec program that is not executable', [TARGETS, '[check.plugin]', 'exec = ["./not-executable.sh"]'], 'check "plugin": exec program "./not-executable.sh"', 'not-executable.sh) is not executable'],
    ['a bad name', [TARGETS, '[check."web check"]', 'tcp = 80'], 'check "web check": the name "web check" is not a command token'],
  ]

  it.each(cases)('run-server: %s', async (_what, lines, message, also = '') => {
    const file = await checksFile(lines)
    const { code, stdout, stderr } = await run('run-server', ['--checks', file, '-b', 'tcp://127.0.0.1:*', '-w', '1'])
    expect(code).toBe(2)
    expect(stdout).not.toContain('listening')
    expect(stderr).toContain(`run-server: ${file}: ${message}`)
    expect(stderr).toContain(also)
    expect(stderr.trimEnd().split('\n')).toHaveLength(1)
  })

  it.each(cases)('run-worker: %s', async (_what, lines, message, also = '') => {
    const file = await checksFile(lines)
    const { code, stderr } = await run('run-worker', ['--checks', file, '-g', 'tcp://127.0.0.1:9'])
    expect(code).toBe(2)
    expect(stderr).toContain(`run-worker: ${file}: ${message}`)
    expect(stderr).toContain(also)
    expect(stderr.trimEnd().split('\n')).toHaveLength(1)
  })

  it('a TOML syntax error names the file and the line', async () => {
    const file = await checksFile([TARGETS, '[check.web]', 'tcp = '])
    const { code, stderr } = await run('run-server', ['--checks', file, '-b', 'tcp://127.0.0.1:*'])
    expect(code).toBe(2)
    expect(stderr).toMatch(new RegExp(`run-server: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+: not valid TOML`))
  })

  it('with -w 0 too: the file is checked whenever it is given', async () => {
    const file = await checksFile([TARGETS, '[check.web]', 'tcp = 80', 'timeout = "3x"'])
    const { code, stderr } = await run('run-server', ['--checks', file, '-b', 'tcp://127.0.0.1:*', '-w', '0'])
    expect(code).toBe(2)
    expect(stderr).toContain('timeout "3x" is not a duration')
  })
})

describe('--checks with --executor', () => {
  it.each([
    ['run-server', ['-b', 'tcp://127.0.0.1:*']],
    ['run-worker', ['-g', 'tcp://127.0.0.1:9']],
  ] as const)('is a usage error for %s (exit 2)', async (name, rest) => {
    const file = await checksFile([TARGETS, '[check.ssh]', 'tcp = 22'])
    const { code, stderr } = await run(name, ['--checks', file, '--executor', 'tests/fixtures/tagging-executor.mjs', ...rest])
    expect(code).toBe(2)
    expect(stderr).toContain('give --checks or --executor, not both')
  })
})

describe('where --checks comes from', () => {
  it('CGW_CHECKS names the checks file', async () => {
    const file = await checksFile([TARGETS, '[check.web]', 'tcp = 80', 'per_target = 0'])
    const { code, stderr } = await run('run-server', ['-b', 'tcp://127.0.0.1:*'], { CGW_CHECKS: file })
    expect(code).toBe(2)
    expect(stderr).toContain(`${file}: check "web": per_target 0 is not an integer from 1 to 1024`)
  })

  it('the config key checks names it', async () => {
    const file = await checksFile([TARGETS, '[check.web]', 'tcp = 0'])
    const config = await files.write('worker.toml', [`checks = "${file}"`, 'gateway = "tcp://127.0.0.1:9"'])
    const { code, stderr } = await run('run-worker', ['--config', config])
    expect(code).toBe(2)
    expect(stderr).toContain(`${file}: check "web": tcp port 0 is not an integer from 1 to 65535`)
  })
})

describe('a valid checks file', () => {
  it('run-server -w 0 --checks needs nothing else', async () => {
    const file = await checksFile([TARGETS, '[check.ssh]', 'tcp = 22'])
    const server = start('run-server', ['-w', '0', '--checks', file, '-b', 'tcp://127.0.0.1:*', '--log-level', 'warn'])
    expect(await listening(server)).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
  })

  it('beside --map: exact map pairs answer first; unknown checks and addresses outside targets are code 1', async () => {
    const file = await checksFile(['targets = ["127.0.0.0/8"]', '[check.ssh]', 'tcp = 22'])
    const map = await files.write('map.txt', ['127.0.0.1:foo:5:0', '8.8.8.8:ssh:6:0'])
    const commands = await files.write('commands.txt', ['127.0.0.1:foo', '8.8.8.8:ssh', '8.8.4.4:ssh', '127.0.0.1:nope'])
    const server = start('run-server', ['--checks', file, '--map', map, '-b', 'tcp://127.0.0.1:*', '-w', '1', '--log-level', 'warn'])
    const endpoint = await listening(server)
    const output = `${files.dir}/out.jsonl`
    await run('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '-s', endpoint, '--output', output])
    const records = (await readFile(output, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { address: string; command: string; code: number; value: unknown })
      .map(({ address, command, code, value }) => [address, command, code, value])
    expect(records).toEqual([
      ['127.0.0.1', 'foo', 0, 5],
      ['8.8.8.8', 'ssh', 0, 6],
      ['8.8.4.4', 'ssh', 1, null],
      ['127.0.0.1', 'nope', 1, null],
    ])
  })
})
