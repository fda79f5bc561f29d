/**
 * Warnings a new user met that said nothing useful, each gone: what run-client
 * and run-worker print on stderr in the situations that produced them, run as
 * a user would (real processes, stderr a pipe, so logs are pino JSON lines).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { listening, trackedClis, type TrackedClis } from '../helpers/cli-session.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { childPids, expectAllGone, freePort, waitFor } from '../helpers/processes.js'
import { withDeadline } from '../helpers/independent-cgp.js'

let files: Fixtures
let clis: TrackedClis
let forked: number[] = []

beforeEach(async () => {
  files = await fixtures()
  clis = trackedClis('SIGINT')
  forked = []
})

afterEach(async () => {
  await clis.stopAll()
  await expectAllGone(forked, 5000)
  await files.remove()
})

/** A gateway with one forked worker that answers each command of the map after `waitSeconds`. */
async function gateway(map: string): Promise<string> {
  const server = clis.start('run-server', [map, 'tcp://127.0.0.1:*', '-w', '1', '--min-workers', '1', '--log-level', 'warn'])
  const endpoint = await listening(server)
  await waitFor(() => childPids(server.pid).length > 0, 'the forked worker')
  forked.push(...childPids(server.pid))
  return endpoint
}

/** The lines of a stderr that are log lines (pino JSON), parsed. */
function logLines(stderr: string): { level: number; msg: string; [key: string]: unknown }[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string })
}

describe('Ctrl+C on run-client writing --output', () => {
  it('prints the partial summary and no MaxListenersExceededWarning', async () => {
    const { commands, map } = await files.seed(512, 2)
    const endpoint = await gateway(map)
    // Two batches in flight: at Ctrl+C thirty batches are left, and their lost records fill the file's buffer.
    const client = clis.start('run-client', [commands, '-s', endpoint, '-b', 'tcp://127.0.0.1:*', '--window', '2', '--output', `${files.dir}/out.jsonl`, '--progress'])
    await waitFor(() => /(?:^|[^0-9])[1-9][0-9]*\/[0-9]+\+? commands/.test(client.stderr()), 'the first results', 10_000)
    client.child.kill('SIGINT')
    const { code } = await withDeadline(client.exited, 10_000, 'run-client to exit after Ctrl+C')
    expect(code).toBe(130)
    expect(client.stdout()).toContain('status    interrupted')
    expect(client.stderr()).not.toContain('MaxListenersExceededWarning')
  })
})

describe('stopping a run-worker that never reached its gateway', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s: it exits 0 at once, without "Waiting for queued ZeroMQ messages"', async (signal) => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    const worker = clis.start('run-worker', ['--gateway', `tcp://127.0.0.1:${await freePort()}`, '--map', map])
    await waitFor(() => worker.stderr().includes('worker started'), 'the worker to start')
    worker.child.kill(signal)
    const { code } = await withDeadline(worker.exited, 5000, 'run-worker to exit')
    expect(code).toBe(0)
    expect(worker.stderr()).not.toContain('Waiting for queued ZeroMQ messages')
  })
})

describe('a client on a port an earlier client used', () => {
  it("counts the earlier run's late results and says so in exactly one line", async () => {
    const map = await files.write('map.txt', ['10.0.0.1:slow:1:2', '10.0.0.2:later:1:3'])
    const endpoint = await gateway(map)
    const port = await freePort()
    const earlierCommands = await files.write('earlier.txt', Array.from({ length: 16 }, () => '10.0.0.1:slow'))
    const earlier = clis.start('run-client', [earlierCommands, '-n', '1', '-s', endpoint, '-b', `tcp://127.0.0.1:${port}`, '--progress'])
    await waitFor(() => earlier.stderr().includes('16 batches in flight'), 'the earlier run to send its 16 batches')
    // It dies with its 16 batches running; their results come back to whoever binds the port next.
    earlier.child.kill('SIGKILL')
    await earlier.exited
    const laterCommands = await files.write('later.txt', ['10.0.0.2:later'])
    const later = await clis.run('run-client', [laterCommands, '-s', endpoint, '-b', `tcp://127.0.0.1:${port}`])
    expect(later.code, later.stderr).toBe(0)
    expect(later.stdout).toContain('commands  1 sent · 1 ok')
    const about = later.stderr.split('\n').filter((line) => /late result|another client/.test(line))
    expect(about).toHaveLength(1)
    expect(logLines(about[0]!)[0]).toMatchObject({ level: 40, ignored: 16, msg: 'ignored 16 late results from an earlier run on this port (another client id)' })
  })
})

describe('run-client with no gateway listening, stderr not a terminal', () => {
  it('logs at most 2 lines over the whole wait: one when it starts waiting, one when it gives up', async () => {
    const port = await freePort()
    const commands = await files.write('c.txt', ['10.0.0.1:foo', '10.0.0.2:foo'])
    // Six attempts of 300 ms: the old client logged a warning at each of the five retries, then the error.
    const { code, stdout, stderr } = await clis.run('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '-s', `tcp://127.0.0.1:${port}`, '--send-retries', '5', '--retry-delay', '300'])
    expect(code).toBe(1)
    expect(stdout).toMatch(/^commands {2}2 read · 0 sent · .* 2 lost$/m)
    expect(stdout).toContain('(0 commands/s)')
    const lines = stderr.split('\n').filter((line) => line !== '')
    expect(lines.length, stderr).toBeLessThanOrEqual(2)
    expect(logLines(stderr).map((line) => line.msg)).toEqual([
      `no gateway accepting at tcp://127.0.0.1:${port} (not up, or its queue is full); retrying up to 5 times, 300 ms apart`,
      'sending stopped; waiting for batches already sent',
    ])
  })
})
