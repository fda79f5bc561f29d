/**
 * `gateway-status --watch` in a real terminal smaller than its status (a
 * private tmux pane, 80 columns by 8 rows, against a live run-server): each
 * redraw must replace the last in place, as watch(1) does, so the header
 * stays on the top row and no line wraps; a status taller or wider than the
 * window used to scroll its header (and first lines) away on every redraw.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { ROOT, childPids, expectAllGone, freePort, startCli, waitFor, type RunningCli } from '../helpers/processes.js'
import { TmuxSession } from '../helpers/tmux.js'

const WIDTH = 80
const HEIGHT = 8
let files: Fixtures | undefined
let server: RunningCli | undefined
let session: TmuxSession | undefined
const seen = new Set<number>()

afterEach(async () => {
  session?.kill()
  session = undefined
  if (server !== undefined) {
    for (const pid of childPids(server.pid)) seen.add(pid)
    server.child.kill('SIGINT')
    await server.exited
    seen.add(server.pid)
    server = undefined
  }
  await expectAllGone([...seen], 5000)
  seen.clear()
  await files?.remove()
})

describe('gateway-status --watch in a terminal smaller than the status', () => {
  it('keeps its header on the top row and every line within the width, redraw after redraw; Ctrl+C exits 0', async () => {
    files = await fixtures()
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    const port = await freePort()
    server = startCli('run-server', [map, 'tcp://127.0.0.1:*', '-w', '1', '--status', `tcp://127.0.0.1:${port}`, '--log-level', 'warn'])
    await waitFor(() => server!.stdout().includes('listening ') || server!.child.exitCode !== null, 'run-server to listen')
    await waitFor(() => childPids(server!.pid).length > 0, 'the forked worker')
    for (const pid of childPids(server.pid)) seen.add(pid)
    session = new TmuxSession({ cwd: ROOT, width: WIDTH, height: HEIGHT })
    const { server: tmux, pane } = session.pids()
    seen.add(tmux).add(pane)
    session.type(`clear; ${process.execPath} bin/gateway-status.js --watch 0.3 tcp://127.0.0.1:${port}; echo exit=$?`)
    const stamps = new Set<string>()
    let screen: string[] = []
    await waitFor(
      () => {
        for (const pid of childPids(pane)) seen.add(pid)
        screen = session!.screen()
        const header = /^Every 0\.3 s: gateway-status tcp:\/\/127\.0\.0\.1:\d+ · (\S+)/.exec(screen[0] ?? '')
        if (header !== null) stamps.add(header[1]!)
        return stamps.size >= 3
      },
      'three redraws with the header on the top row',
    ).catch((error: Error) => {
      throw new Error(`${error.message}; the screen:\n${screen.join('\n')}`)
    })
    expect(screen[2]).toMatch(/^gateway {3}tcp:\/\/127\.0\.0\.1:/)
    // Cut to the width, as watch(1) does: each row is one line of the status, none wrapped onto the next.
    const wrapped = screen.slice(2).filter((row) => row !== '' && !/^(gateway|queue|workers|counters|commands|recent|security|states) |^ {2}/.test(row))
    expect(wrapped, screen.join('\n')).toEqual([])
    expect(Math.max(...screen.map((row) => row.length))).toBeLessThan(WIDTH)
    session.keys('C-c')
    await waitFor(() => session!.screen().some((row) => row.endsWith('exit=0')), 'exit=0 after Ctrl+C').catch((error: Error) => {
      throw new Error(`${error.message}; the screen:\n${session!.capture().join('\n')}`)
    })
  }, 30_000)
})
