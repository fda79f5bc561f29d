/**
 * The command line as a demanding user meets it: every refused input is one
 * line naming where it came from (flag, positional argument, variable, file),
 * exits 2 before anything binds, and never writes a control character from
 * the input to the terminal. Switches can be turned off on the command line
 * whatever the environment or the config file says.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { expectAllGone, startCli, waitFor, type RunningCli } from '../helpers/processes.js'

type Name = Parameters<typeof startCli>[0]

const ESC = '\x1b[2J\x1b[31mred'

let files: Fixtures
let started: RunningCli[] = []

beforeEach(async () => {
  files = await fixtures()
  started = []
})

afterEach(async () => {
  for (const cli of started) if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL')
  await expectAllGone(started.map((cli) => cli.pid), 5000)
  await files.remove()
})

/** Runs a CLI to its end with extra environment variables. */
async function run(name: Name, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = startCli(name, args, { env })
  started.push(cli)
  const { code } = await cli.exited
  return { code, stdout: cli.stdout(), stderr: cli.stderr() }
}

/** Asserts a usage error: exit 2, nothing on stdout, exactly one line on stderr; returns that line. */
function oneUsageLine(result: { code: number | null; stdout: string; stderr: string }): string {
  expect(result.code).toBe(2)
  expect(result.stdout).toBe('')
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  return lines[0]!
}

describe("commander's own usage errors are terminal-safe", () => {
  it.each<[Name, string[]]>([
    ['run-server', ['-w', ESC]],
    ['run-server', [`--${ESC}`]],
    ['run-client', ['c.txt', ESC]],
    ['run-worker', ['--heartbeat', ESC]],
    ['gateway-status', ['tcp://127.0.0.1:1', '--timeout', ESC]],
  ])('%s %j shows the escape sequence as text', async (name, args) => {
    const line = oneUsageLine(await run(name, args))
    expect(line).not.toMatch(/[\x00-\x1f\x7f]/)
    expect(line).toContain('\\x1b[2J')
  })
})

describe('run-server checks its executor module before it listens', () => {
  it.each<[string, string[] | undefined, string]>([
    ['a file that does not exist', undefined, 'cannot be imported'],
    ['a module whose default export is not a function', ['export default 42'], 'its default export must be createExecutor(options, context), a function; found a number'],
    ['a module whose createExecutor throws', ['export default function createExecutor() { throw new Error("no licence file") }'], 'createExecutor failed: no licence file'],
    ['a module whose createExecutor returns no executor', ['export default () => 5'], 'createExecutor must return an executor'],
  ])('%s: exit 2, one line naming the module', async (_what, source, reason) => {
    const module = source === undefined ? `${files.dir}/missing.mjs` : await files.write('executor.mjs', source)
    const line = oneUsageLine(await run('run-server', ['-w', '1', '-b', 'tcp://127.0.0.1:*', '--executor', module]))
    expect(line).toContain(`run-server: executor module ${JSON.stringify(module)}: ${reason}`)
  })
})

describe("the seed's positional [bind] is checked like --bind", () => {
  it('run-server: before the map is read, naming the argument', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    const line = oneUsageLine(await run('run-server', [map, 'tcp://nohost', '--log-level', 'info']))
    expect(line).toContain("argument 'bind'")
    expect(line).toContain('"tcp://nohost"')
  })

  it('run-client: naming the argument', async () => {
    const commands = await files.write('c.txt', ['10.0.0.1:foo'])
    const line = oneUsageLine(await run('run-client', [commands, '16', 'tcp://nohost']))
    expect(line).toContain("argument 'bind'")
  })
})

describe('a setting checked against another names the flags', () => {
  it('min-workers above max-workers', async () => {
    const line = oneUsageLine(await run('run-server', ['-w', '0'], { CGW_MIN_WORKERS: '5' }))
    // The library's names, and the flags a command-line user typed (or whose CGW_ variable set them).
    expect(line).toContain('minWorkers 5 is above maxWorkers 0 (--min-workers, --max-workers)')
  })
})

describe('a config file named by CGW_CONFIG', () => {
  it('that cannot be read: the message says CGW_CONFIG named it', async () => {
    const line = oneUsageLine(await run('run-server', ['-w', '0'], { CGW_CONFIG: `${files.dir}/nope.toml` }))
    expect(line).toContain(`cannot read config file ${files.dir}/nope.toml (named by CGW_CONFIG)`)
    expect(line).toContain('ENOENT')
  })
})

describe('--map on the command line over a config file that names an executor and its options', () => {
  it('the map wins, and the config file executor options go with its executor', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    const config = await files.write('gateway.toml', ['executor = "./elsewhere.mjs"', 'executor-options = { tag = "x" }', 'bind = "tcp://127.0.0.1:*"'])
    const cli = startCli('run-server', ['-w', '0', '--map', map, '--config', config, '--log-level', 'warn'])
    started.push(cli)
    await waitFor(() => cli.stdout().includes('listening ') || cli.child.exitCode !== null, 'run-server to listen or exit')
    expect(cli.stdout(), cli.stderr()).toContain('listening tcp://127.0.0.1:')
  })
})

describe('a switch set on by the environment or a config file can be turned off by a flag', () => {
  const unsent = ['-s', 'tcp://127.0.0.1:1', '-b', 'tcp://127.0.0.1:*', '--send-retries', '0', '--retry-delay', '50']

  it('run-client --no-json over CGW_JSON=1', async () => {
    const commands = await files.write('c.txt', ['10.0.0.1:foo'])
    const { code, stdout } = await run('run-client', [commands, ...unsent, '--no-json'], { CGW_JSON: '1' })
    expect(code).toBe(1)
    // Nothing reached a gateway: one command read, none sent (the summary says both when they differ).
    expect(stdout.startsWith('commands  1 read · 0 sent')).toBe(true)
  })

  it('run-client --no-strict over strict = true in the config file', async () => {
    const commands = await files.write('c.txt', ['10.0.0.1:foo', 'not a command line'])
    const config = await files.write('client.toml', ['strict = true'])
    const { code, stdout } = await run('run-client', [commands, ...unsent, '--config', config, '--no-strict'])
    expect(code).toBe(1)
    expect(stdout).toContain('skipped   1 bad line')
  })
})

describe('gateway-status with an endpoint that is not one', () => {
  it('is bad usage (exit 2), as its help says, naming the argument', async () => {
    const line = oneUsageLine(await run('gateway-status', ['nope']))
    expect(line).toContain("argument 'endpoint'")
    expect(line).toContain('"nope"')
  })
})

describe('bad usage exits 2 in every CLI, with one line and nothing on stdout', () => {
  // Each: an unknown flag, an argument too many, a value out of range.
  const cases: readonly [Name, readonly string[]][] = [
    ['run-client', ['--bogus']],
    ['run-client', ['a', '16', 'tcp://127.0.0.1:5556', 'tcp://127.0.0.1:5557', 'extra']],
    ['run-client', ['a', '--batch-size', '0']],
    ['run-server', ['--bogus']],
    ['run-server', ['-w', '0', '--queue-limit', '-1']],
    ['run-server', ['-w', '0', '--http', 'not-a-port']],
    ['run-worker', ['--bogus']],
    ['run-worker', ['-g', 'tcp://127.0.0.1:1', '--capacity', '0']],
    ['run-worker', ['-g', 'notanendpoint']],
    ['gateway-status', ['--bogus']],
    ['gateway-status', ['tcp://127.0.0.1:1', 'extra']],
    ['gateway-status', ['--timeout', 'soon']],
    ['gateway-keygen', ['--bogus']],
    ['gateway-keygen', []],
    ['gateway-keygen', ['dir', 'name', 'extra']],
  ]
  for (const [name, args] of cases) {
    it(`${name} ${args.join(' ') || '(no arguments)'}`, async () => {
      oneUsageLine(await run(name, [...args]))
    })
  }
})
