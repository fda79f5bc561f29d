/**
 * Options as users give them to the real CLIs: flags, CGW_ variables and a
 * TOML --config file, with flag > environment > config file > default; the
 * executor flags; help grouped by the schema. run-server's effective
 * --max-workers is read back from gateway-status (pool.max).
 */
import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Dealer } from 'zeromq'
import { requestStatus } from '../../src/gateway/status.js'
import { readyFrame } from '../../src/protocol/frames.js'
import { listening, trackedClis, type Name } from '../helpers/cli-session.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { childPids, freePort, runCli, waitFor } from '../helpers/processes.js'


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

async function config(lines: string[]): Promise<string> {
  return files.write('options.toml', lines)
}

/**
 * Starts run-server (no worker forked at start: --min-workers 0) and returns the
 * most workers it would fork, as gateway-status reports it.
 */
async function effectiveMaxWorkers(args: string[], env: Record<string, string> = {}): Promise<number> {
  const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
  const status = `tcp://127.0.0.1:${await freePort()}`
  const server = start('run-server', [map, 'tcp://127.0.0.1:*', '--min-workers', '0', '--status', status, '--log-level', 'warn', ...args], env)
  await listening(server)
  const { code, stdout } = await runCli('gateway-status', [status, '--json'])
  expect(code).toBe(0)
  return (JSON.parse(stdout) as { pool: { max: number } }).pool.max
}

describe('run-server takes an option from each source', () => {
  it('a TOML config file sets options: keys are the long flags', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    const status = `tcp://127.0.0.1:${await freePort()}`
    const file = await config(['# every setting of this gateway', `map = "${map}"`, 'bind = "tcp://127.0.0.1:*"', `status = "${status}"`, 'max-workers = 3', 'min-workers = 0'])
    const server = start('run-server', ['--config', file, '--log-level', 'warn'])
    await listening(server)
    const { stdout } = await runCli('gateway-status', [status, '--json'])
    expect(JSON.parse(stdout)).toMatchObject({ pool: { max: 3, min: 0 } })
  })

  it('a CGW_ variable sets an option; an unknown CGW_ name is only a warning', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    const status = `tcp://127.0.0.1:${await freePort()}`
    const server = start('run-server', [map, '-b', 'tcp://127.0.0.1:*', '--status', status], { CGW_MAX_WORKERS: '4', CGW_MIN_WORKERS: '0', CGW_NO_SUCH_OPTION: '1' })
    await listening(server)
    const { stdout } = await runCli('gateway-status', [status, '--json'])
    expect(JSON.parse(stdout)).toMatchObject({ pool: { max: 4, min: 0 } })
    expect(server.stderr()).toContain('CGW_NO_SUCH_OPTION is not an option of any command; ignored')
    expect(server.stderr()).not.toContain('CGW_CRASH_DIR') // the suite's own variable is not an option
  })
})

describe('precedence: flag, then environment, then config file, then default', () => {
  it('a flag wins over the environment and the config file', async () => {
    const file = await config(['max-workers = 4'])
    expect(await effectiveMaxWorkers(['-w', '2', '--config', file], { CGW_MAX_WORKERS: '3' })).toBe(2)
  })

  it('a positional argument counts as a flag', async () => {
    const file = await config(['max-workers = 4'])
    // After the map file and bind the helper gives: [client] (ignored), then [max-workers].
    expect(await effectiveMaxWorkers(['tcp://127.0.0.1:5556', '2', '--config', file], { CGW_MAX_WORKERS: '3' })).toBe(2)
  })

  it('the environment wins over the config file', async () => {
    const file = await config(['max-workers = 4'])
    expect(await effectiveMaxWorkers(['--config', file], { CGW_MAX_WORKERS: '3' })).toBe(3)
  })

  it('the config file wins over the default', async () => {
    const file = await config([`max-workers = ${availableParallelism() + 1}`])
    expect(await effectiveMaxWorkers(['--config', file])).toBe(availableParallelism() + 1)
  })

  it('with no source the default holds (the number of CPUs)', async () => {
    expect(await effectiveMaxWorkers([])).toBe(availableParallelism())
  })
})

describe('bad values from the environment or a config file stop the command with exit 2', () => {
  it('a config value out of range names the file, line, key and value', async () => {
    const file = await config(['# limits', 'max-workers = 5000'])
    const { code, stderr, stdout } = await run('run-server', ['-w', '0', '--config', file])
    expect(code).toBe(2)
    expect(stderr).toContain(`run-server: ${file}:2: max-workers must be an integer from 0 to 4096, got 5000`)
    expect(stdout).toBe('')
  })

  it('an unknown key names the file, line and key', async () => {
    const file = await config(['batch-size = 16', 'frobnicate = true'])
    const { code, stderr } = await run('run-client', ['c.txt', '--config', file])
    expect(code).toBe(2)
    expect(stderr).toContain(`run-client: ${file}:2: unknown key "frobnicate" = true`)
  })

  it('a bad variable names the variable', async () => {
    const commands = await files.write('c.txt', ['10.0.0.1:foo'])
    const { code, stderr } = await run('run-client', [commands, '-b', 'tcp://127.0.0.1:*'], { CGW_BATCH_SIZE: '0' })
    expect(code).toBe(2)
    expect(stderr).toContain('run-client: CGW_BATCH_SIZE must be an integer from 1 to 10000, got "0"')
  })
})

describe('run-client and run-worker read the same sources', () => {
  it('run-client: batch size from CGW_BATCH_SIZE, gateway and bind from its config file', async () => {
    const { commands, map } = await files.seed(20, 0)
    const endpoint = await listening(start('run-server', [map, 'tcp://127.0.0.1:*', '-w', '1', '--log-level', 'warn']))
    const file = await config([`server = ["${endpoint}"]`, 'bind = "tcp://127.0.0.1:*"', 'batch-size = 2'])
    const { code, stdout } = await run('run-client', [commands, '--config', file], { CGW_BATCH_SIZE: '5' })
    expect(code).toBe(0)
    expect(stdout).toContain('batches   4 × 5')
    expect(stdout).toContain('total     20')
  })

  it('run-worker: its required gateway and its map from a config file', async () => {
    const { commands, map } = await files.seed(8, 0)
    const workersBind = `tcp://127.0.0.1:${await freePort()}`
    const server = start('run-server', ['-w', '0', '-b', 'tcp://127.0.0.1:*', '--workers-bind', workersBind, '--log-level', 'info'])
    const endpoint = await listening(server)
    const worker = start('run-worker', ['--config', await config([`gateway = "${workersBind}"`, `map = "${map}"`])])
    await waitFor(() => server.stderr().includes('worker ready'), 'the worker to join')
    const { code, stdout } = await run('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '-s', endpoint])
    expect(code).toBe(0)
    expect(stdout).toContain('8 ok')
    worker.child.kill('SIGINT')
    expect((await worker.exited).code).toBe(0)
  })

  it('run-worker without a gateway from any source exits 2 saying where it could come from', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    const { code, stderr } = await run('run-worker', ['--map', map])
    expect(code).toBe(2)
    expect(stderr).toContain('--gateway is required (or CGW_GATEWAY, or gateway = … in the --config file)')
  })
})

describe('run-server --heartbeat-liveness', () => {
  it('sets how many silent heartbeat intervals lose a worker', async () => {
    const [workersPort, statusPort] = [await freePort(), await freePort()]
    const status = `tcp://127.0.0.1:${statusPort}`
    const args = ['-w', '0', '-b', 'tcp://127.0.0.1:*', '--workers-bind', `tcp://127.0.0.1:${workersPort}`, '--status', status]
    await listening(start('run-server', [...args, '--heartbeat', '100', '--heartbeat-liveness', '20', '--log-level', 'warn']))
    const silent = new Dealer({ linger: 0 })
    try {
      silent.connect(`tcp://127.0.0.1:${workersPort}`)
      await silent.send(readyFrame('silent', 1))
      const sent = Date.now()
      await waitFor(async () => (await requestStatus(status, 2000)).counters.workersLost === 1, 'the silent worker to be lost', 15_000)
      // The default liveness (3) would lose it after about 300 ms; 20 intervals take 2 s.
      expect(Date.now() - sent).toBeGreaterThanOrEqual(1500)
    } finally {
      silent.close()
    }
  })

  it('is checked like every option', async () => {
    const { code, stderr } = await run('run-server', ['-w', '0', '--heartbeat-liveness', '0'])
    expect(code).toBe(2)
    expect(stderr).toContain("option '--heartbeat-liveness <n>' argument '0' is invalid. expected an integer from 1 to 1000")
  })
})

describe('executor flags', () => {
  it('run-server -w 0 needs no map and no executor', async () => {
    const server = start('run-server', ['-w', '0', '-b', 'tcp://127.0.0.1:*', '--log-level', 'warn'])
    expect(await listening(server)).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
  })

  it('run-server that forks workers without an executor exits 2 saying what is needed', async () => {
    const { code, stderr } = await run('run-server', ['-w', '1', '-b', 'tcp://127.0.0.1:*'])
    expect(code).toBe(2)
    expect(stderr).toContain('a device map file (run-server <map-file> or --map), a checks file (--checks) or --executor MODULE is required, unless -w 0')
  })

  it('run-server --executor device-map --executor-options runs the map in its forked workers', async () => {
    const { commands, map } = await files.seed(10, 0, 7)
    const endpoint = await listening(start('run-server', ['--executor', 'device-map', '--executor-options', JSON.stringify({ file: map }), '-b', 'tcp://127.0.0.1:*', '-w', '1', '--log-level', 'warn']))
    const output = `${files.dir}/out.jsonl`
    const { code } = await run('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '-s', endpoint, '--output', output])
    expect(code).toBe(0)
    const values = (await readFile(output, 'utf8')).trimEnd().split('\n').map((line) => (JSON.parse(line) as { value: unknown }).value)
    expect(values).toEqual(Array.from({ length: 10 }, () => 7))
  })

  it('run-server --executor tests/fixtures/tagging-executor.mjs serves every command through that module in its forked workers', async () => {
    const { commands } = await files.seed(40, 0)
    const tag = `tag-${randomUUID()}`
    const server = start('run-server', ['--executor', 'tests/fixtures/tagging-executor.mjs', '--executor-options', JSON.stringify({ tag }), '-b', 'tcp://127.0.0.1:*', '-w', '2', '--min-workers', '2', '--log-level', 'warn'])
    const endpoint = await listening(server)
    const output = `${files.dir}/out.jsonl`
    const { code } = await run('run-client', [commands, '-n', '4', '-b', 'tcp://127.0.0.1:*', '-s', endpoint, '--output', output])
    expect(code).toBe(0)
    const forked = childPids(server.pid)
    const records = (await readFile(output, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as { address: string; command: string; value: unknown })
    expect(records).toHaveLength(40)
    for (const { address, command, value } of records) {
      // Only the module, given this run's random tag, answers tag|worker id|pid|address|command.
      const [valueTag, workerId, pid, valueAddress, valueCommand] = String(value).split('|')
      expect(valueTag).toBe(tag)
      expect(workerId).toMatch(/^gw[0-9a-f]{6}-w\d+-[0-9a-f]{8}$/)
      expect(forked).toContain(Number(pid))
      expect([valueAddress, valueCommand]).toEqual([address, command])
    }
  })

  it('run-worker --executor tests/fixtures/tagging-executor.mjs serves through that module', async () => {
    const { commands } = await files.seed(8, 0)
    const tag = `tag-${randomUUID()}`
    const workersBind = `tcp://127.0.0.1:${await freePort()}`
    const server = start('run-server', ['-w', '0', '-b', 'tcp://127.0.0.1:*', '--workers-bind', workersBind, '--log-level', 'info'])
    const endpoint = await listening(server)
    const worker = start('run-worker', ['-g', workersBind, '--id', 'tagging-worker', '--executor', 'tests/fixtures/tagging-executor.mjs', '--executor-options', JSON.stringify({ tag })])
    await waitFor(() => server.stderr().includes('worker ready'), 'the worker to join')
    const output = `${files.dir}/out.jsonl`
    const { code } = await run('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '-s', endpoint, '--output', output])
    expect(code).toBe(0)
    const values = (await readFile(output, 'utf8')).trimEnd().split('\n').map((line) => String((JSON.parse(line) as { value: unknown }).value))
    expect(values).toHaveLength(8)
    for (const value of values) expect(value.startsWith(`${tag}|tagging-worker|${worker.pid}|`)).toBe(true)
  })

  it('bad --executor-options JSON is a usage error naming the flag', async () => {
    const { code, stderr } = await run('run-server', ['-w', '0', '--executor', './x.mjs', '--executor-options', '{bad'])
    expect(code).toBe(2)
    expect(stderr).toContain("option '--executor-options <json>' argument '{bad' is invalid. expected a JSON value")
  })

  it.each<[Name, string[]]>([
    ['run-server', ['-w', '1']],
    ['run-worker', ['-g', 'tcp://127.0.0.1:5558']],
  ])('%s with both --map and --executor is a usage error', async (name, args) => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    const { code, stderr } = await run(name, [...args, '--map', map, '--executor', './x.mjs'])
    expect(code).toBe(2)
    expect(stderr).toContain('give --map or --executor, not both')
  })

  it('run-worker --executor device-map joins and serves', async () => {
    const { commands, map } = await files.seed(6, 0)
    const workersBind = `tcp://127.0.0.1:${await freePort()}`
    const server = start('run-server', ['-w', '0', '-b', 'tcp://127.0.0.1:*', '--workers-bind', workersBind, '--log-level', 'info'])
    const endpoint = await listening(server)
    start('run-worker', ['-g', workersBind, '--executor', 'device-map', '--executor-options', JSON.stringify({ file: map })])
    await waitFor(() => server.stderr().includes('worker ready'), 'the worker to join')
    const { code, stdout } = await run('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '-s', endpoint])
    expect(code).toBe(0)
    expect(stdout).toContain('6 ok')
  })
})

describe('--help lists the options under their groups, then the examples', () => {
  it.each<[Name, string[]]>([
    ['run-server', ['Endpoints:', 'Executor:', 'Workers:', 'Timing:', 'Queue and limits:', '--heartbeat-liveness <n>', '--executor-options <json>', '--config <file>', 'CGW_MAX_WORKERS=8']],
    ['run-client', ['Endpoints:', 'Batching:', 'Output:', '-n, --batch-size <n>', '--no-progress', '--config <file>', 'CGW_BATCH_SIZE=64']],
    ['run-worker', ['Endpoints:', 'Executor:', 'Workers:', 'Timing:', '-g, --gateway <endpoint>', '--reconnect-max <ms>', 'CGW_CONCURRENCY=4096']],
  ])('%s --help', async (name, expected) => {
    const { code, stdout } = await runCli(name, ['--help'])
    expect(code).toBe(0)
    for (const text of expected) expect(stdout).toContain(text)
    expect(stdout.indexOf('Examples:')).toBeGreaterThan(stdout.indexOf('Endpoints:'))
  })
})
