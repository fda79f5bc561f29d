/**
 * The checks file as checks.md defines it: what a valid file parses to, and
 * one ConfigError per mistake, naming the file, the check and the value.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/errors.js'
import { checkDefaults, checksFileLimits, parseChecksText, readChecksFile } from '../../src/executors/checks/file.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/checks/', import.meta.url))
const PLUGIN = join(FIXTURES, 'plugin.sh')
const TARGETS = 'targets = ["127.0.0.0/8"]'

/** Parses `lines` as a file in the fixtures directory (so ./plugin.sh resolves). */
function parse(lines: readonly string[], file = join(FIXTURES, 'test.toml')) {
  return parseChecksText(lines.join('\n'), file)
}

function failure(lines: readonly string[], file = 'checks.toml'): ConfigError {
  try {
    parseChecksText(lines.join('\n'), file, { baseDir: FIXTURES })
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ code: 'ERR_CHECKS_FILE' })
    return error as ConfigError
  }
  throw new Error('the file was accepted')
}

describe('a valid checks file', () => {
  it('parses every key the contract defines', async () => {
    const config = await readChecksFile(join(FIXTURES, 'valid.toml'))
    expect(config.targets).toEqual(['127.0.0.0/8', '::1', '10.20.0.0/16', '*.dc1.example'])
    expect(config.checks.get('ssh')).toEqual({ kind: 'tcp', port: 22, name: 'ssh', limits: { timeoutMs: 10_000, perTarget: 4, rate: { count: 50, intervalMs: 1000 } } })
    expect(config.checks.get('web')).toEqual({
      kind: 'http',
      url: 'http://{address}:8080/health',
      expect: new Set([200, 204]),
      name: 'web',
      limits: { timeoutMs: 3000, perTarget: 4, rate: { count: 50, intervalMs: 1000 } },
    })
    expect(config.checks.get('plugin')).toEqual({
      kind: 'exec',
      argv: [PLUGIN, '-H', '{address}', '--label=host-{address}'],
      name: 'plugin',
      limits: { timeoutMs: 10_000, perTarget: 1, rate: { count: 10, intervalMs: 60_000 } },
    })
  })

  it('without [defaults]: timeout 10s, per_target 4, no rate; http expect defaults to 200-399', () => {
    const config = parse([TARGETS, '[check.web]', 'http = "http://{address}/"'])
    expect(checkDefaults).toEqual({ timeoutMs: 10_000, perTarget: 4 })
    expect(config.checks.get('web')).toMatchObject({ expect: 'default', limits: { timeoutMs: 10_000, perTarget: 4 } })
    expect(config.checks.get('web')!.limits.rate).toBeUndefined()
  })

  it('reads 250ms, 3s and 1m, N/s and N/m; a check overrides each default', () => {
    const config = parse([TARGETS, '[defaults]', 'timeout = "250ms"', 'rate = "5/s"', '[check.a]', 'tcp = 1', '[check.b]', 'tcp = 65535', 'timeout = "1m"', 'rate = "7/m"', 'per_target = 1024'])
    expect(config.checks.get('a')!.limits).toEqual({ timeoutMs: 250, perTarget: 4, rate: { count: 5, intervalMs: 1000 } })
    expect(config.checks.get('b')!.limits).toEqual({ timeoutMs: 60_000, perTarget: 1024, rate: { count: 7, intervalMs: 60_000 } })
  })

  it('resolves a relative exec program against the directory of the checks file, not the working directory', () => {
    const config = parseChecksText([TARGETS, '[check.p]', 'exec = ["plugin.sh"]'].join('\n'), join(FIXTURES, 'any.toml'))
    expect(config.checks.get('p')).toMatchObject({ argv: [PLUGIN] })
  })

  it('keeps the file name as given, for messages', () => {
    expect(parse([TARGETS], 'some/checks.toml').file).toBe('some/checks.toml')
  })

  it('accepts a file with no check (every command is then unknown, or answered by the map)', () => {
    expect(parse([TARGETS]).checks.size).toBe(0)
  })

  it('accepts quoted names with dots, as commands may have them', () => {
    expect([...parse([TARGETS, '[check."disk.root"]', 'tcp = 1']).checks.keys()]).toEqual(['disk.root'])
  })
})

describe('each mistake is one error naming the file, the check and the value', () => {
  const cases: [string, string[], string][] = [
    ['an unknown top-level key', [TARGETS, 'target = ["10.0.0.0/8"]'], 'checks.toml: unknown key "target" = ["10.0.0.0/8"] (did you mean targets?)'],
    ['an unknown key in a check', [TARGETS, '[check.web]', 'tcp = 80', 'timout = "3s"'], 'checks.toml: check "web": unknown key "timout" = "3s" (did you mean timeout?)'],
    ['an unknown key in [defaults]', [TARGETS, '[defaults]', 'per-target = 2'], 'checks.toml: defaults: unknown key "per-target" = 2 (did you mean per_target?)'],
    ['no targets', ['[check.ssh]', 'tcp = 22'], 'checks.toml: targets is required'],
    ['empty targets', ['targets = []'], 'checks.toml: targets: the list is empty'],
    ['targets not a list', ['targets = "127.0.0.0/8"'], 'checks.toml: targets: "127.0.0.0/8" is not a list of strings'],
    ['a bad CIDR prefix', ['targets = ["10.0.0.0/33"]'], 'checks.toml: targets: "10.0.0.0/33" is not a CIDR block: the prefix must be 0 to 32'],
    ['a CIDR with a bad address', ['targets = ["10.0.300.0/24"]'], 'checks.toml: targets: "10.0.300.0/24" is not a CIDR block'],
    ['a CIDR with host bits', ['targets = ["10.20.1.0/16"]'], 'checks.toml: targets: "10.20.1.0/16" is not a CIDR block: it has host bits set (the block is 10.20.0.0/16)'],
    ['an address pattern as a glob', ['targets = ["10.0.*.*"]'], 'checks.toml: targets: "10.0.*.*" looks like an address pattern'],
    ['a target that is nothing', ['targets = ["http://x"]'], 'checks.toml: targets: "http://x" is not a CIDR block'],
    ['a check with no kind', [TARGETS, '[check.web]', 'timeout = "3s"'], 'checks.toml: check "web": no kind: give exactly one of exec, tcp or http'],
    ['a check with two kinds', [TARGETS, '[check.web]', 'tcp = 80', 'http = "http://{address}/"'], 'checks.toml: check "web": 2 kinds (tcp, http): give exactly one of exec, tcp or http'],
    ['a bad duration', [TARGETS, '[check.web]', 'tcp = 80', 'timeout = "3x"'], 'checks.toml: check "web": timeout "3x" is not a duration (250ms, 3s, 1m)'],
    ['a duration as a number', [TARGETS, '[check.web]', 'tcp = 80', 'timeout = 3'], 'checks.toml: check "web": timeout 3 is not a duration (250ms, 3s, 1m)'],
    ['a zero timeout', [TARGETS, '[check.web]', 'tcp = 80', 'timeout = "0s"'], 'checks.toml: check "web": timeout "0s" must be more than 0'],
    ['a timeout over the bound', [TARGETS, '[check.web]', 'tcp = 80', 'timeout = "61m"'], 'checks.toml: check "web": timeout "61m" is more than 60m'],
    ['a bad duration in [defaults]', [TARGETS, '[defaults]', 'timeout = "1h"'], 'checks.toml: defaults: timeout "1h" is not a duration (250ms, 3s, 1m)'],
    ['a bad rate', [TARGETS, '[check.web]', 'tcp = 80', 'rate = "50/h"'], 'checks.toml: check "web": rate "50/h" is not a rate ("N/s" or "N/m", e.g. "50/s")'],
    ['a zero rate', [TARGETS, '[defaults]', 'rate = "0/s"'], 'checks.toml: defaults: rate "0/s": N must be 1 to 100000'],
    ['a bad per_target', [TARGETS, '[check.web]', 'tcp = 80', 'per_target = 0'], 'checks.toml: check "web": per_target 0 is not an integer from 1 to 1024'],
    ['a per_target over the bound', [TARGETS, '[defaults]', 'per_target = 1025'], 'checks.toml: defaults: per_target 1025 is not an integer from 1 to 1024'],
    ['a tcp port out of range', [TARGETS, '[check.ssh]', 'tcp = 70000'], 'checks.toml: check "ssh": tcp port 70000 is not an integer from 1 to 65535'],
    ['a tcp port as a string', [TARGETS, '[check.ssh]', 'tcp = "22"'], 'checks.toml: check "ssh": tcp port "22" is not an integer from 1 to 65535'],
    ['expect on a tcp check', [TARGETS, '[check.ssh]', 'tcp = 22', 'expect = [200]'], 'checks.toml: check "ssh": expect [200] is for http checks only'],
    ['a bad status code', [TARGETS, '[check.web]', 'http = "http://{address}/"', 'expect = [200, 700]'], 'checks.toml: check "web": expect code 700 is not an HTTP status code (100 to 599)'],
    ['expect not a list', [TARGETS, '[check.web]', 'http = "http://{address}/"', 'expect = 200'], 'checks.toml: check "web": expect 200 is not a list of HTTP status codes'],
    ['a URL that is not one', [TARGETS, '[check.web]', 'http = "not a url"'], 'checks.toml: check "web": http "not a url" is not a URL'],
    ['a URL that is not http', [TARGETS, '[check.web]', 'http = "ftp://{address}/"'], 'checks.toml: check "web": http "ftp://{address}/" is not an http:// or https:// URL'],
    ['exec not a list', [TARGETS, '[check.p]', 'exec = "./plugin.sh -H {address}"'], 'checks.toml: check "p": exec "./plugin.sh -H {address}" is not a list of strings'],
    ['exec with a non-string', [TARGETS, '[check.p]', 'exec = ["./plugin.sh", 5]'], 'checks.toml: check "p": exec argument 5 is not a string'],
    ['exec not found', [TARGETS, '[check.p]', 'exec = ["/nowhere/check_x", "-H", "{address}"]'], 'checks.toml: check "p": exec program "/nowhere/check_x" does not exist'],
    ['exec not found, relative', [TARGETS, '[check.p]', 'exec = ["./check_x"]'], `checks.toml: check "p": exec program "./check_x" (${join(FIXTURES, 'check_x')}) does not exist`],
    ['exec not executable', [TARGETS, '[check.p]', 'exec = ["./not-executable.sh"]'], `checks.toml: check "p": exec program "./not-executable.sh" (${join(FIXTURES, 'not-executable.sh')}) is not executable`],
    ['exec a directory', [TARGETS, '[check.p]', `exec = ["${FIXTURES}"]`], `checks.toml: check "p": exec program "${FIXTURES}" is not a file`],
    ['{address} as the program', [TARGETS, '[check.p]', 'exec = ["{address}"]'], 'checks.toml: check "p": exec program "{address}" cannot hold {address}'],
    ['a bad name', [TARGETS, '[check."my check"]', 'tcp = 22'], 'checks.toml: check "my check": the name "my check" is not a command token'],
    ['a name with a colon', [TARGETS, '[check."a:b"]', 'tcp = 22'], 'checks.toml: check "a:b": the name "a:b" is not a command token'],
    ['a check that is not a table', [TARGETS, 'check.ssh = 22'], 'checks.toml: check "ssh": 22 is not a table'],
    ['[defaults] not a table', [TARGETS, 'defaults = 4'], 'checks.toml: defaults: 4 is not a table'],
  ]
  it.each(cases)('%s', (_what, lines, message) => {
    expect(failure(lines).message).toContain(message)
  })

  it('a TOML syntax error names the file and the line', () => {
    expect(failure([TARGETS, '[check.ssh]', 'tcp = '], 'etc/checks.toml').message).toMatch(/^etc\/checks\.toml:3:\d+: not valid TOML: /)
  })

  it('a file that cannot be read names it', async () => {
    await expect(readChecksFile('no-such-checks.toml', { cwd: FIXTURES })).rejects.toMatchObject({
      code: 'ERR_CHECKS_FILE',
      message: expect.stringMatching(/^no-such-checks\.toml: cannot read the checks file: /) as unknown,
    })
  })
})

describe('bounds', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cgw-checks-file-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('refuses more checks than the bound', () => {
    const lines = [TARGETS]
    for (let i = 0; i <= checksFileLimits.checks; i++) lines.push(`[check.c${i}]`, 'tcp = 1')
    expect(failure(lines).message).toBe(`checks.toml: ${checksFileLimits.checks + 1} checks, more than ${checksFileLimits.checks}`)
  })

  it('refuses an exec list longer than the bound, and an argument longer than the bound', () => {
    const long = Array.from({ length: checksFileLimits.argv }, () => '"x"').join(', ')
    expect(failure([TARGETS, '[check.p]', `exec = ["./plugin.sh", ${long}]`]).message).toContain(`exec has ${checksFileLimits.argv + 1} elements`)
    expect(failure([TARGETS, '[check.p]', `exec = ["./plugin.sh", "${'y'.repeat(checksFileLimits.argChars + 1)}"]`]).message).toContain('is longer than 4096 characters')
  })

  it('refuses a name longer than the bound', () => {
    expect(failure([TARGETS, `[check.${'n'.repeat(checksFileLimits.nameChars + 1)}]`, 'tcp = 1']).message).toContain('the name is longer than 128 characters')
  })

  it('refuses a file larger than the bound before reading it', async () => {
    const path = join(dir, 'huge.toml')
    await writeFile(path, `${TARGETS}\n${'#'.repeat(checksFileLimits.fileBytes)}\n`)
    await expect(readChecksFile(path)).rejects.toMatchObject({ message: expect.stringContaining('more than 1048576') as unknown })
  })

  it('checks executability as the file is read: a plugin made executable later is accepted then', async () => {
    const plugin = join(dir, 'later.sh')
    await writeFile(plugin, '#!/bin/sh\nexit 0\n')
    await chmod(plugin, 0o644)
    const text = [TARGETS, '[check.p]', 'exec = ["./later.sh"]'].join('\n')
    expect(() => parseChecksText(text, join(dir, 'c.toml'))).toThrow('is not executable')
    await chmod(plugin, 0o755)
    expect(parseChecksText(text, join(dir, 'c.toml')).checks.get('p')).toMatchObject({ argv: [plugin] })
  })
})
