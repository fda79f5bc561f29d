/**
 * Both CLIs exactly as a user types them: the original's positional order,
 * named options, help, and the exit codes of design.md.
 */
import { execFileSync } from 'node:child_process'
import { closeSync, constants, openSync, readdirSync, readFileSync, readlinkSync, writeSync } from 'node:fs'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Dealer, Push } from 'zeromq'
import { commandListBody, readyFrame, taskFrame } from '../../src/protocol/frames.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { withDeadline } from '../helpers/independent-cgp.js'
import { childPids, expectAllGone, freePort, runCli, startCli, trackPeakRss, waitFor, type RunningCli } from '../helpers/processes.js'

let files: Fixtures
let servers: RunningCli[] = []
let pids: number[] = []

beforeEach(async () => {
  files = await fixtures()
  servers = []
  pids = []
})

afterEach(async () => {
  for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGINT')
  await expectAllGone([...pids, ...servers.map((s) => s.pid)], 5000)
  await files.remove()
})

async function startServer(args: string[]): Promise<{ server: RunningCli; endpoint: string }> {
  const server = startCli('run-server', args)
  servers.push(server)
  await waitFor(() => server.stdout().includes('listening '), 'run-server to print its endpoint')
  const endpoint = /listening (\S+)/.exec(server.stdout())![1]!
  return { server, endpoint }
}

describe('the original scenario typed with positional arguments', () => {
  it('prints the summary with total 512, exits 0, and the server stops on Ctrl+C', async () => {
    const { commands, map } = await files.seed(512, 0.05)
    const [intake, results] = [await freePort(), await freePort()]
    const { server } = await startServer([map, `tcp://127.0.0.1:${intake}`, `tcp://127.0.0.1:${results}`, '4'])
    const client = await runCli('run-client', [commands, '16', `tcp://127.0.0.1:${results}`, `tcp://127.0.0.1:${intake}`])
    expect(client.code).toBe(0)
    const lines = client.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe('commands  512 sent · 512 ok · 0 unknown · 0 failed · 0 timeout · 0 cancelled · 0 lost')
    expect(lines[1]).toBe('batches   32 × 16')
    expect(lines[2]).toBe('total     512')
    expect(lines[3]).toMatch(/^elapsed {3}\d+\.\d{3} s {2}\(\d+ commands\/s\)$/)
    expect(lines).toHaveLength(4)
    pids.push(...childPids(server.pid))
    server.child.kill('SIGINT')
    expect((await server.exited).code).toBe(0)
    expect(server.stdout()).toMatch(/served 32 batches/)
  })
})

describe('the named options', () => {
  it('accept several servers, a wildcard bind, --json and --output', async () => {
    const { commands, map } = await files.seed(30, 0)
    const { endpoint: first } = await startServer(['--map', map, '--bind', 'tcp://127.0.0.1:*', '--max-workers', '1', '--log-level', 'warn'])
    const { endpoint: second } = await startServer(['-m', map, '-b', 'tcp://127.0.0.1:*', '-w', '1', '--log-level', 'warn'])
    const output = `${files.dir}/out.jsonl`
    const client = await runCli('run-client', [commands, '-n', '4', '-b', 'tcp://127.0.0.1:*', '-s', first, second, '--json', '--output', output])
    expect(client.code).toBe(0)
    const summary = JSON.parse(client.stdout) as { total: number; batches: number; counts: { ok: number } }
    expect(summary).toMatchObject({ total: 30, batches: 8, counts: { ok: 30 } })
    const records = (await readFile(output, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as { line: number })
    expect(records.map((r) => r.line).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
  })
})

describe('help and version', () => {
  it.each(['run-client', 'run-server'] as const)('%s --help shows the options and examples and exits 0', async (name) => {
    const { code, stdout } = await runCli(name, ['--help'])
    expect(code).toBe(0)
    expect(stdout).toContain('Usage:')
    expect(stdout).toContain('Examples:')
    expect(stdout).toContain('--log-level')
  })

  it.each(['run-client', 'run-server'] as const)('%s --version prints the package version', async (name) => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    const { code, stdout } = await runCli(name, ['--version'])
    expect(code).toBe(0)
    expect(stdout.trim()).toBe(pkg.version)
  })
})

describe('bad usage and unreadable input exit 2 with a message naming the problem', () => {
  it('a missing commands file', async () => {
    const missing = `${files.dir}/nope.txt`
    const { code, stderr, stdout } = await runCli('run-client', [missing, '-b', 'tcp://127.0.0.1:*'])
    expect(code).toBe(2)
    expect(stderr).toContain(missing)
    expect(stdout).toBe('')
  })

  it('a commands file with no commands', async () => {
    const empty = await files.write('empty.txt', [])
    const { code, stderr } = await runCli('run-client', [empty, '-b', 'tcp://127.0.0.1:*', '--send-retries', '0'])
    expect(code).toBe(2)
    expect(stderr).toContain('has no commands')
  })

  it('--strict with a bad line names file and line and sends nothing', async () => {
    const commands = await files.write('bad.txt', ['10.0.0.1:foo', '10.0.0.300:foo', '10.0.0.2:bar'])
    const { code, stderr } = await runCli('run-client', [commands, '--strict', '-b', 'tcp://127.0.0.1:*'])
    expect(code).toBe(2)
    expect(stderr).toContain(`${commands}:2:`)
  })

  it.each([
    ['batch size 0', ['0']],
    ['a non-numeric window', ['--window', 'lots']],
    ['an unknown option', ['--frobnicate']],
  ])('run-client with %s', async (_, extra) => {
    const commands = await files.write('c.txt', ['10.0.0.1:foo'])
    const { code, stderr } = await runCli('run-client', [commands, ...extra])
    expect(code).toBe(2)
    expect(stderr.length).toBeGreaterThan(0)
  })

  it('run-client bound to every interface without --advertise', async () => {
    const commands = await files.write('c.txt', ['10.0.0.1:foo'])
    const { code, stderr } = await runCli('run-client', [commands, '-b', 'tcp://*:*'])
    expect(code).toBe(2)
    expect(stderr).toContain('--advertise')
  })

  it('an --output file that cannot be written, before anything is sent', async () => {
    const commands = await files.write('c.txt', ['10.0.0.1:foo'])
    const target = `${files.dir}/no-such-dir/out.jsonl`
    const { code, stderr } = await runCli('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '--output', target])
    expect(code).toBe(2)
    expect(stderr).toContain(target)
  })

  it('run-server with a missing map file', async () => {
    const missing = `${files.dir}/no-map.txt`
    const { code, stderr } = await runCli('run-server', [missing, 'tcp://127.0.0.1:*'])
    expect(code).toBe(2)
    expect(stderr).toContain(missing)
  })

  it('run-server with an intake port already in use', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    const { endpoint } = await startServer([map, 'tcp://127.0.0.1:*', '-w', '1', '--log-level', 'warn'])
    const { code, stderr } = await runCli('run-server', [map, endpoint, '-w', '1'])
    expect(code).toBe(2)
    expect(stderr).toContain(endpoint)
  })
})

describe('bad files, each with its message and exit code', () => {
  it('a binary commands file: exit 2, naming the file', async () => {
    const binary = `${files.dir}/binary.bin`
    await writeFile(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0x02, 0x0a]))
    const { code, stderr, stdout } = await runCli('run-client', [binary, '-b', 'tcp://127.0.0.1:*'])
    expect(code).toBe(2)
    expect(stderr).toContain(`${binary} looks like a binary file`)
    expect(stdout).toBe('')
  })

  it('an unreadable commands file: exit 2, naming the path', async () => {
    const locked = await files.write('locked.txt', ['10.0.0.1:foo'])
    await chmod(locked, 0o000)
    // root reads any file whatever its mode; a directory cannot be read as a file by anyone.
    const target = process.getuid?.() === 0 ? files.dir : locked
    const { code, stderr } = await runCli('run-client', [target, '-b', 'tcp://127.0.0.1:*'])
    expect(code).toBe(2)
    expect(stderr).toContain(target)
  })

  it('a line over 64 KiB and CRLF endings: the long line is reported and skipped, the CRLF lines run', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0\r', '10.0.0.2:foo:1:0\r'])
    const commands = `${files.dir}/crlf.txt`
    await writeFile(commands, `10.0.0.1:foo\r\n${'x'.repeat(70_000)}\r\n10.0.0.2:foo\r\n`)
    const { endpoint } = await startServer([map, 'tcp://127.0.0.1:*', '-w', '1', '--log-level', 'warn'])
    const { code, stdout, stderr } = await runCli('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '-s', endpoint])
    expect(code).toBe(0)
    expect(stdout).toContain('total     2')
    expect(stderr).toContain(`${commands}:2: line is longer than 65536 bytes`)
  })

  it('duplicate map entries: the last wins, with a warning naming both lines', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0', '10.0.0.2:foo:1:0', '10.0.0.1:foo:5:0'])
    const commands = await files.write('c.txt', ['10.0.0.1:foo'])
    const { server, endpoint } = await startServer([map, 'tcp://127.0.0.1:*', '-w', '1', '--log-level', 'warn'])
    expect(server.stderr()).toMatch(new RegExp(`${map}:3:.*line 1`))
    const { stdout } = await runCli('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '-s', endpoint])
    expect(stdout).toContain('total     5')
  })
})

describe('a million-line-scale file of bad lines: bounded logs and memory', () => {
  const BAD = 300_000

  it('run-server logs the first 100 bad map lines and the first 100 duplicates, then one line counting the rest', async () => {
    const map = `${files.dir}/bad-map.txt`
    await writeFile(map, `10.0.0.1:foo:1:0\n${'10.0.0.300:foo:1:0\n'.repeat(BAD)}${'10.0.0.1:foo:2:0\n'.repeat(1000)}`)
    const { server } = await startServer([map, 'tcp://127.0.0.1:*', '-w', '0', '--log-level', 'warn'])
    const lines = server.stderr().trimEnd().split('\n')
    expect(lines.filter((line) => line.includes('is not a valid IPv4 address'))).toHaveLength(100)
    expect(lines.filter((line) => line.includes('duplicate entry for 10.0.0.1:foo'))).toHaveLength(100)
    expect(server.stderr()).toContain(`${map}: ${BAD - 100} more bad lines and 900 more duplicate entries not logged`)
    expect(lines.length).toBeLessThan(210)
    expect(server.stderr().length).toBeLessThan(64 * 1024)
  })

  it('run-server --strict exits 2 naming the count and the first bad line, with bounded stderr', async () => {
    const map = `${files.dir}/bad-map.txt`
    await writeFile(map, `10.0.0.1:foo:1:0\n${'10.0.0.300:foo:1:0\n'.repeat(BAD)}`)
    const { code, stderr } = await runCli('run-server', [map, 'tcp://127.0.0.1:*', '--strict', '--log-level', 'warn'])
    expect(code).toBe(2)
    expect(stderr).toContain(`run-server: ${map}: ${BAD} bad line(s), first ${map}:2: "10.0.0.300" is not a valid IPv4 address; refusing to start (--strict)`)
    expect(stderr.length).toBeLessThan(64 * 1024)
  })
})

describe('run-client --strict on a file of 1 000 000 bad lines', () => {
  it('counts them all, logs the first 100 and one line for the rest, and keeps its memory bounded', async () => {
    const commands = `${files.dir}/bad.txt`
    await writeFile(commands, '10.0.0.300:foo\n'.repeat(1_000_000))
    const client = startCli('run-client', [commands, '--strict', '-b', 'tcp://127.0.0.1:*'])
    pids.push(client.pid)
    const rss = trackPeakRss(client)
    const { code } = await client.exited
    expect(code).toBe(2)
    // Keeping every bad line took 225 MB at its peak; counting them leaves a bare run's ~90 MB.
    expect(rss.peak()).toBeGreaterThan(0)
    expect(rss.peak()).toBeLessThan(150 * 1024)
    const stderr = client.stderr()
    expect(stderr).toContain(`run-client: ${commands}: 1000000 bad line(s), first ${commands}:1: "10.0.0.300" is not a valid IPv4 address; nothing sent (--strict)`)
    expect(stderr.split('\n').filter((line) => line.includes('is not a valid IPv4 address'))).toHaveLength(101) // 100 logged + the error
    expect(stderr).toContain(`${commands}: 999900 more bad lines not logged`)
  })
})

/** Makes a FIFO in the test's directory. */
function mkfifo(path: string): string {
  execFileSync('mkfifo', [path])
  return path
}

/** True once process `pid` holds `path` open. */
function holdsOpen(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path
      } catch {
        return false
      }
    })
  } catch {
    return false
  }
}

/** True while one of the threads of `pid` waits in a FIFO's open() for the other end (a libuv threadpool thread). */
function blockedOnFifo(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).some((tid) => {
      try {
        return readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'utf8') === 'wait_for_partner'
      } catch {
        return false
      }
    })
  } catch {
    return false
  }
}

describe('commands from a FIFO or from stdin ("-")', () => {
  it('a FIFO with no writer: Ctrl+C exits 130 at once with the partial summary', async () => {
    const fifo = mkfifo(`${files.dir}/commands.fifo`)
    const client = startCli('run-client', [fifo, '-b', 'tcp://127.0.0.1:*', '-s', `tcp://127.0.0.1:${await freePort()}`, '--log-level', 'debug'])
    pids.push(client.pid)
    await waitFor(() => client.stderr().includes('client ready'), 'run-client to open its sockets')
    client.child.kill('SIGINT')
    const exited = await withDeadline(client.exited, 3000, 'run-client to exit after one Ctrl+C')
    expect(exited.code).toBe(130)
    expect(client.stdout()).toMatch(/^commands {2}0 sent · 0 ok .* 0 lost$/m)
    expect(client.stdout()).toContain('status    interrupted')
  })

  it('a FIFO is read as it is written: lines written later are sent, and the run ends when the writer closes', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    const { endpoint } = await startServer([map, 'tcp://127.0.0.1:*', '-w', '1', '--log-level', 'warn'])
    const fifo = mkfifo(`${files.dir}/commands.fifo`)
    const client = startCli('run-client', [fifo, '-n', '5', '-b', 'tcp://127.0.0.1:*', '-s', endpoint, '--progress'])
    pids.push(client.pid)
    // It opens the FIFO without waiting for a writer, so the test's writer need not block either.
    await waitFor(() => holdsOpen(client.pid, fifo), 'run-client to open the FIFO')
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)
    try {
      writeSync(writer, '10.0.0.1:foo\n'.repeat(10))
      // Still being read: done/read+ and no percentage, since the total is not known yet.
      await waitFor(() => client.stderr().includes('10/10+ commands'), 'the first ten commands to be answered')
      expect(client.child.exitCode).toBeNull()
      writeSync(writer, '10.0.0.1:foo\n'.repeat(5))
      await waitFor(() => client.stderr().includes('15/15+ commands'), 'the five written later to be answered')
    } finally {
      closeSync(writer)
    }
    expect((await client.exited).code).toBe(0)
    expect(client.stdout()).toContain('commands  15 sent · 15 ok')
    expect(client.stdout()).toContain('total     15')
  })

  it('- reads the commands from stdin', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:2:0', '10.0.0.2:bar:3:0'])
    const { endpoint } = await startServer([map, 'tcp://127.0.0.1:*', '-w', '1', '--log-level', 'warn'])
    const client = startCli('run-client', ['-', '-b', 'tcp://127.0.0.1:*', '-s', endpoint], { stdin: 'pipe' })
    pids.push(client.pid)
    client.child.stdin!.end('10.0.0.1:foo\nnot a command\n10.0.0.2:bar\n')
    expect((await client.exited).code).toBe(0)
    expect(client.stdout()).toContain('total     5')
    expect(client.stdout()).toContain('skipped   1 bad line')
    expect(client.stderr()).toContain('<stdin>:2: expected address:command')
  })

  it('Ctrl+C while stdin is open but idle exits 130 with what was done', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    const { endpoint } = await startServer([map, 'tcp://127.0.0.1:*', '-w', '1', '--log-level', 'warn'])
    const client = startCli('run-client', ['-', '-n', '5', '-b', 'tcp://127.0.0.1:*', '-s', endpoint, '--progress'], { stdin: 'pipe' })
    pids.push(client.pid)
    try {
      client.child.stdin!.write('10.0.0.1:foo\n'.repeat(5))
      await waitFor(() => client.stderr().includes('5/5+ commands'), 'the five commands to be answered')
      client.child.kill('SIGINT')
      const exited = await withDeadline(client.exited, 3000, 'run-client to exit after one Ctrl+C')
      expect(exited.code).toBe(130)
      expect(client.stdout()).toContain('commands  5 sent · 5 ok')
      expect(client.stdout()).toContain('status    interrupted')
    } finally {
      client.child.stdin!.destroy()
    }
  })

  it('--output to a FIFO nobody reads: Ctrl+C still exits 130 with the partial summary', async () => {
    const commands = await files.write('c.txt', ['10.0.0.1:foo'])
    const fifo = mkfifo(`${files.dir}/out.fifo`)
    const client = startCli('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '-s', `tcp://127.0.0.1:${await freePort()}`, '--output', fifo])
    pids.push(client.pid)
    // The open of the output waits for a reader; it is the only thing the process is doing.
    await waitFor(() => blockedOnFifo(client.pid), 'run-client to wait in open() for a reader of the FIFO')
    client.child.kill('SIGINT')
    const exited = await withDeadline(client.exited, 3000, 'run-client to exit after one Ctrl+C')
    expect(exited).toEqual({ code: 130, signal: null })
    expect(client.stdout()).toContain('status    interrupted')
  })

  it.each([
    ['stdin', (): string => '-'],
    ['a FIFO', (): string => mkfifo(`${files.dir}/strict.fifo`)],
  ])('--strict with %s exits 2 saying why (the file is read twice)', async (_, input) => {
    const client = startCli('run-client', [input(), '--strict', '-b', 'tcp://127.0.0.1:*'])
    pids.push(client.pid)
    const exited = await withDeadline(client.exited, 5000, 'run-client to exit')
    expect(exited.code).toBe(2)
    expect(client.stderr()).toMatch(/--strict reads the commands twice .* can be read only once/)
  })
})

describe('when no gateway is listening', () => {
  it('run-client retries within its bound, then exits 1 with one error line naming the endpoint', async () => {
    const port = await freePort()
    const commands = await files.write('c.txt', ['10.0.0.1:foo', '10.0.0.2:foo'])
    const started = Date.now()
    const { code, stdout, stderr } = await runCli('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '-s', `tcp://127.0.0.1:${port}`, '--send-retries', '3', '--retry-delay', '200'])
    expect(Date.now() - started).toBeLessThan(5000) // 4 attempts of 200 ms, plus start-up
    expect(code).toBe(1)
    expect(stdout).toContain(`error     tcp://127.0.0.1:${port} did not accept a message in 4 attempts of 200 ms`)
    expect(stderr.split('\n').filter((line) => line.includes('sending stopped'))).toHaveLength(1)
  })
})

describe('bad lines without --strict', () => {
  it('are reported as file:line: reason, skipped, and counted in the summary', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0', '10.0.0.2:foo:1:0'])
    const commands = await files.write('c.txt', ['10.0.0.1:foo', 'not a command', '10.0.0.2:foo\r', '', '# comment'])
    const { endpoint } = await startServer([map, 'tcp://127.0.0.1:*', '-w', '1', '--log-level', 'warn'])
    const { code, stdout, stderr } = await runCli('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '-s', endpoint])
    expect(code).toBe(0)
    expect(stdout).toContain('total     2')
    expect(stdout).toContain('skipped   1 bad line')
    expect(stderr).toContain(`${commands}:2:`)
  })
})

describe('Ctrl+C on the client', () => {
  it('sends abort so the gateway drops its queued batches and cancels the running one, prints the partial summary, and exits 130', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:slow:1:5'])
    const commands = await files.write('c.txt', Array.from({ length: 6 }, () => '10.0.0.1:slow'))
    const { server, endpoint } = await startServer([map, 'tcp://127.0.0.1:*', '-w', '1', '--capacity', '1', '--grace', '500'])
    await waitFor(() => server.stderr().includes('worker ready'), 'the worker to be ready')
    const client = startCli('run-client', [commands, '-n', '1', '-b', 'tcp://127.0.0.1:*', '-s', endpoint, '--progress'])
    await waitFor(() => client.stderr().includes('6 batches in flight'), 'all six batches to be sent')
    client.child.kill('SIGINT')
    const { code } = await client.exited
    expect(code).toBe(130)
    expect(client.stdout()).toContain('status    interrupted')
    // The running one came back cancelled (code 4); the five dropped at the gateway are lost.
    expect(client.stdout()).toMatch(/^commands {2}6 sent · 0 ok .* 5 lost$/m)
    await waitFor(() => server.stderr().includes('client aborted'), 'the gateway to log the abort')
    const abortLine = server.stderr().split('\n').find((line) => line.includes('client aborted'))!
    // One batch was running on the only worker (it got a cancel); the other five were queued and dropped.
    expect(abortLine).toContain('"dropped":5')
    expect(abortLine).toContain('"cancelsSent":1')
  })
})

describe('run-worker: remote workers joining a gateway that forks none', () => {
  it('serve the client; on Ctrl+C the worker finishes, says bye and exits 0', async () => {
    const { commands, map } = await files.seed(64, 0.1)
    const port = await freePort()
    const { server, endpoint } = await startServer([map, 'tcp://127.0.0.1:*', '-w', '0', '--workers-bind', `tcp://127.0.0.1:${port}`, '--log-level', 'debug'])
    const worker = startCli('run-worker', ['--gateway', `tcp://127.0.0.1:${port}`, '--map', map, '--capacity', '4'])
    servers.push(worker)
    await waitFor(() => server.stderr().includes('worker ready'), 'the remote worker to say ready')
    const { code, stdout } = await runCli('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '-s', endpoint])
    expect(code).toBe(0)
    expect(stdout).toContain('total     64')
    worker.child.kill('SIGINT')
    expect((await worker.exited).code).toBe(0)
    await waitFor(() => server.stderr().includes('worker said bye'), 'the gateway to hear bye')
  })

  it('join a gateway that starts after them, and say ready again to its replacement after a crash', async () => {
    const { commands, map } = await files.seed(32, 0)
    const port = await freePort()
    const workersBind = `tcp://127.0.0.1:${port}`
    const worker = startCli('run-worker', ['--gateway', workersBind, '--map', map, '--heartbeat', '200'])
    servers.push(worker)
    const serverArgs = [map, 'tcp://127.0.0.1:*', '-w', '0', '--workers-bind', workersBind, '--heartbeat', '200', '--log-level', 'info']
    const first = await startServer(serverArgs)
    await waitFor(() => first.server.stderr().includes('worker ready'), 'the worker to join the first gateway')
    first.server.child.kill('SIGKILL')
    await first.server.exited
    const second = await startServer(serverArgs)
    await waitFor(() => second.server.stderr().includes('worker ready'), 'the worker to say ready to the second gateway', 15_000)
    const { code, stdout } = await runCli('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '-s', second.endpoint])
    expect(code).toBe(0)
    expect(stdout).toContain('total     32')
    // The gateway's shutdown sends the poison pill: the remote worker leaves too.
    second.server.child.kill('SIGINT')
    expect((await worker.exited).code).toBe(0)
  })
})

describe('gateway-status', () => {
  it('prints the queue, the workers and the counters of a run-server started with --status, or JSON', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    const port = await freePort()
    await startServer([map, 'tcp://127.0.0.1:*', '-w', '1', '--status', `tcp://127.0.0.1:${port}`, '--log-level', 'warn'])
    let text = ''
    await waitFor(async () => {
      text = (await runCli('gateway-status', [`tcp://127.0.0.1:${port}`])).stdout
      return text.includes('workers   1 connected (1 forked, 0 remote)')
    }, 'the forked worker to show')
    expect(text).toMatch(/^gateway   tcp:\/\/127\.0\.0\.1:\d+ · workers port ipc:/)
    expect(text).toContain('counters  received 0')
    const json = await runCli('gateway-status', [`tcp://127.0.0.1:${port}`, '--json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({ queue: { batches: 0 }, pool: { forked: 1 } })
  })

  it('escapes a client id and a worker id holding escape sequences: no raw ESC, C1 or bidi reaches the terminal', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    const [statusPort, workersPort] = [await freePort(), await freePort()]
    const { endpoint } = await startServer([
      map, 'tcp://127.0.0.1:*', '-w', '0', '--workers-bind', `tcp://127.0.0.1:${workersPort}`,
      '--status', `tcp://127.0.0.1:${statusPort}`, '--heartbeat', '10000', '--grace', '200', '--log-level', 'warn',
    ])
    const evilClient = 'evil\x1b[2J\x1b]0;pwned\x07\u009b31m'
    const evilWorker = 'w\u202eredro\x1b[31m'
    // A worker that says ready (capacity 1) and never answers: one batch is held, the next stays queued.
    const worker = new Dealer({ linger: 0 })
    const intake = new Push({ linger: 0 })
    try {
      worker.connect(`tcp://127.0.0.1:${workersPort}`)
      await worker.send(readyFrame(evilWorker, 1))
      intake.connect(endpoint)
      const body = commandListBody([{ address: '10.0.0.1', command: 'foo' }])
      const replyTo = `tcp://127.0.0.1:${await freePort()}`
      for (const id of ['1', '2']) await intake.send([taskFrame(id, evilClient, replyTo, 1), body])
      let text = ''
      await waitFor(async () => {
        text = (await runCli('gateway-status', [`tcp://127.0.0.1:${statusPort}`])).stdout
        return text.includes('workers   1 connected') && text.includes('queue     1 batches')
      }, 'the worker and the queued batch to show')
      expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/)
      expect(text).toContain('  evil\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m  1 batches')
      expect(text).toMatch(/^ {2}w\\u202eredro\\x1b\[31m +remote/m)
    } finally {
      worker.close()
      intake.close()
    }
  })

  it('exits 1 naming the endpoint when nothing answers', async () => {
    const port = await freePort()
    const { code, stderr } = await runCli('gateway-status', [`tcp://127.0.0.1:${port}`, '--timeout', '300'])
    expect(code).toBe(1)
    expect(stderr).toContain(`status of tcp://127.0.0.1:${port}: no answer within 300 ms`)
  })
})
