/**
 * `gateway-status --watch [SECONDS]` against a live run-server: piped, it
 * prints snapshot after snapshot, a blank line apart; on a terminal (a real
 * pty, from script(1)) it clears the screen before each; Ctrl+C ends it with
 * exit 0; a gateway that does not answer gets an "unreachable, retrying"
 * line and is asked again until it does. And the dashboard's `/status.json`
 * is the object `gateway-status --json` prints.
 */
import { spawn } from 'node:child_process'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Router } from 'zeromq'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { listening, trackedClis } from '../helpers/cli-session.js'
import { ROOT, childPids, expectAllGone, freePort, waitFor } from '../helpers/processes.js'

const clis = trackedClis('SIGINT')
let files: Fixtures
let workerPids: number[] = []

beforeEach(async () => {
  files = await fixtures()
  workerPids = []
})

afterEach(async () => {
  await clis.stopAll()
  await expectAllGone(workerPids)
  await files.remove()
})

/** A run-server with one forked worker, its status port on `statusPort` (and HTTP on `httpPort`, when given). */
async function startGateway(statusPort: number, httpPort?: number): Promise<{ pid: number; endpoint: string }> {
  const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
  const http = httpPort === undefined ? [] : ['--http', `127.0.0.1:${httpPort}`]
  const server = clis.start('run-server', [map, 'tcp://127.0.0.1:*', '-w', '1', '--status', `tcp://127.0.0.1:${statusPort}`, ...http, '--log-level', 'warn'])
  const endpoint = await listening(server)
  await waitFor(() => childPids(server.pid).length > 0, 'the worker to be forked')
  workerPids.push(...childPids(server.pid))
  return { pid: server.pid, endpoint }
}

/** The snapshots of a piped --watch: each a header line, then the status, a blank line between two. */
function snapshots(stdout: string): string[] {
  return stdout.split(/\n\n(?=Every )/).filter((s) => s.startsWith('Every '))
}

describe('gateway-status --watch, piped', () => {
  it('prints a snapshot every SECONDS, a blank line apart, and exits 0 on Ctrl+C', async () => {
    const port = await freePort()
    const { endpoint } = await startGateway(port)
    const watch = clis.start('gateway-status', ['--watch', '0.3', `tcp://127.0.0.1:${port}`])
    await waitFor(() => snapshots(watch.stdout()).length >= 3, 'three snapshots')
    watch.child.kill('SIGINT')
    expect(await watch.exited).toEqual({ code: 0, signal: null })
    const shots = snapshots(watch.stdout())
    expect(shots.length).toBeGreaterThanOrEqual(3)
    for (const shot of shots) {
      const lines = shot.trimEnd().split('\n')
      expect(lines[0]).toMatch(new RegExp(`^Every 0\\.3 s: gateway-status tcp://127\\.0\\.0\\.1:${port} · \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z$`))
      expect(lines[1]).toMatch(/^gateway   /)
      expect(shot).toContain(`gateway   ${endpoint} · workers port`)
      expect(shot).toMatch(/^counters  received 0/m)
    }
    // Nothing but snapshots: header, status, blank line, header…
    expect(watch.stdout()).toBe(`${shots.join('\n\n')}`)
    expect(watch.stdout().endsWith('\n')).toBe(true)
    expect(watch.stderr()).toBe('')
  })

  it('with --watch alone before the endpoint, redraws every 2 s', async () => {
    const port = await freePort()
    await startGateway(port)
    const watch = clis.start('gateway-status', ['--watch', `tcp://127.0.0.1:${port}`])
    await waitFor(() => snapshots(watch.stdout()).length >= 1, 'the first snapshot')
    expect(watch.stdout()).toMatch(/^Every 2 s: gateway-status /)
    watch.child.kill('SIGINT')
    expect(await watch.exited).toEqual({ code: 0, signal: null })
  })

  it('with --json, prints one status object per line', async () => {
    const port = await freePort()
    await startGateway(port)
    const watch = clis.start('gateway-status', [`tcp://127.0.0.1:${port}`, '--json', '--watch', '0.2'])
    await waitFor(() => watch.stdout().split('\n').length >= 3, 'two JSON lines')
    watch.child.kill('SIGINT')
    expect((await watch.exited).code).toBe(0)
    const lines = watch.stdout().trimEnd().split('\n')
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ queue: { batches: 0 }, pool: { forked: 1 }, recent: { intervalMs: 1000 } })
  })

  it('shows "unreachable, retrying" while nothing answers, and the status once the gateway is up', async () => {
    const port = await freePort()
    const watch = clis.start('gateway-status', [`tcp://127.0.0.1:${port}`, '--watch', '0.2', '--timeout', '200'])
    await waitFor(() => (watch.stdout().match(/unreachable, retrying/g) ?? []).length >= 2, 'two unreachable lines')
    expect(watch.child.exitCode).toBeNull()
    expect(snapshots(watch.stdout())[0]).toMatch(new RegExp(`\\ngateway-status: unreachable, retrying every 0\\.2 s \\(status of tcp://127\\.0\\.0\\.1:${port}: no answer within 200 ms\\)$`))
    await startGateway(port)
    await waitFor(() => watch.stdout().includes('\ngateway   tcp://'), 'a snapshot of the gateway that came up', 15_000)
    watch.child.kill('SIGINT')
    expect(await watch.exited).toEqual({ code: 0, signal: null })
  })

  it('exits 0 at once on Ctrl+C while a request is still waiting for its answer', async () => {
    // A status port that takes the request and never answers.
    const silent = new Router({ linger: 0 })
    try {
      await silent.bind('tcp://127.0.0.1:*')
      const watch = clis.start('gateway-status', [silent.lastEndpoint!, '--watch', '0.2', '--timeout', '60000'])
      const request = silent.receive()
      await Promise.race([request, watch.exited.then(() => Promise.reject(new Error(`gateway-status exited: ${watch.stderr()}`)))])
      const sent = Date.now()
      watch.child.kill('SIGINT')
      expect(await watch.exited).toEqual({ code: 0, signal: null })
      expect(Date.now() - sent).toBeLessThan(5000)
      expect(watch.stdout()).toBe('')
    } finally {
      silent.close()
    }
  })

  it.each([
    ['--watch 0', ['--watch', '0'], "option '--watch [seconds]' argument '0' is invalid. expected a number of seconds from 0.1 to 86400"],
    ['--watch=soon', ['--watch=soon'], "option '--watch [seconds]' argument 'soon' is invalid"],
    ['--watch 2s', ['--watch', '2s'], "option '--watch [seconds]' argument '2s' is invalid"],
    ['--watch 100000', ['--watch', '100000'], 'from 0.1 to 86400'],
  ])('exits 2 on %s', async (_what, args, message) => {
    const { code, stdout, stderr } = await clis.run('gateway-status', ['tcp://127.0.0.1:1', ...args])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toContain(message)
  })
})

describe('gateway-status --watch on a terminal', () => {
  it('clears the screen and homes the cursor before each snapshot, and a typed Ctrl+C ends it with exit 0', async () => {
    const port = await freePort()
    await startGateway(port)
    // script(1) runs it on a pseudo-terminal, and passes our ^C to it as a typed one: a SIGINT from the tty.
    // Through `exec`, since script runs $SHELL -c: dash (CI's /bin/sh) would stay as the parent, take the
    // same SIGINT and end with 130 whatever gateway-status did.
    const command = `exec ${process.execPath} ${ROOT}bin/gateway-status.js tcp://127.0.0.1:${port} --watch 0.3`
    const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      await waitFor(() => (out.match(/\x1b\[2J\x1b\[H/g) ?? []).length >= 2 && out.endsWith('\n'), 'two redraws')
      child.stdin.write('\x03')
      expect(await exited).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      await expectAllGone([child.pid!])
    }
    const frames = out.split('\x1b[2J\x1b[H').slice(1)
    expect(frames.length).toBeGreaterThanOrEqual(2)
    for (const frame of frames.slice(0, 2)) {
      expect(frame).toMatch(new RegExp(`^Every 0\\.3 s: gateway-status tcp://127\\.0\\.0\\.1:${port} · [0-9T:.Z-]+\\r\\n\\r\\ngateway   tcp://`))
    }
  })
})

describe("the dashboard's /status.json", () => {
  it('is the object gateway-status --json prints', async () => {
    const [statusPort, httpPort] = [await freePort(), await freePort()]
    await startGateway(statusPort, httpPort)
    const workers = async (): Promise<number> => ((await (await fetch(`http://127.0.0.1:${httpPort}/status.json`)).json()) as { workers: unknown[] }).workers.length
    await waitFor(async () => (await workers().catch(() => 0)) === 1, 'the worker to show in /status.json')
    const { code, stdout } = await clis.run('gateway-status', [`tcp://127.0.0.1:${statusPort}`, '--json'])
    expect(code).toBe(0)
    const response = await fetch(`http://127.0.0.1:${httpPort}/status.json`)
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
    const fromHttp = (await response.json()) as Record<string, unknown>
    const fromCli = JSON.parse(stdout) as Record<string, unknown>
    // The same object, but for what moves between the two readings: time, and a second's rates.
    const still = (s: Record<string, unknown>): unknown =>
      JSON.parse(JSON.stringify({ ...s, uptimeMs: 0, recent: 0 }), (key, value: unknown) => (key === 'lastHeardMs' ? 0 : value))
    expect(still(fromHttp)).toEqual(still(fromCli))
    expect(Object.keys(fromHttp)).toEqual(Object.keys(fromCli))
    expect(fromHttp.recent).toMatchObject({ intervalMs: 1000, batchesPerSecond: expect.any(Array), receivedPerSecond: expect.any(Array) })
  })
})
