/**
 * run-client in a real terminal (a private tmux server), as a person watches
 * it: a long run whose results socket also receives garbage, so the client
 * logs WARN lines while its progress line is drawn. Every screen captured
 * during the run is checked: a log line never shares a row with the progress
 * line; once the input is read the progress line shows a percentage, a rate
 * and an ETA; Ctrl+C prints the partial summary and the shell sees 130. And
 * with no gateway, the wait is one line that counts the seconds in place.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Push } from 'zeromq'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { ROOT, childPids, expectAllGone, freePort, startCli, waitFor, type RunningCli } from '../helpers/processes.js'
import { TmuxSession } from '../helpers/tmux.js'

/** Text only the progress line has, and text only a log line (pino-pretty's) has. */
const PROGRESS = /\d+\/\d+\+? commands|batch(es)? in flight/
const LOG = /\b(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\b|malformed message|^\s+(role|reason|pid): /
/** The progress line once the total is known: `… (37 %) · 1024 commands/s · ETA 00:05 · …`. */
const COMPLETE = /\d+\/\d+ commands \(\d+ %\) · [0-9.]+ commands\/s · ETA \d\d:\d\d · \d+ batch(es)? in flight/

let files: Fixtures
let gateway: RunningCli
let endpoint: string
const sessions: TmuxSession[] = []
/** Every process the terminals ran or were: tmux servers, their shells, the run-clients in them. */
const seen = new Set<number>()

beforeAll(async () => {
  files = await fixtures()
  // 8192 commands answered after 1 s each; one worker holds 64 batches of 16 at once, so the run takes 8 s.
  const { map } = await files.seed(8192, 1)
  gateway = startCli('run-server', [map, 'tcp://127.0.0.1:*', '-w', '1', '--min-workers', '1', '--log-level', 'warn'])
  await waitFor(() => gateway.stdout().includes('listening ') || gateway.child.exitCode !== null, 'run-server to listen')
  endpoint = /listening (\S+)/.exec(gateway.stdout())?.[1] ?? ''
  expect(endpoint, gateway.stderr()).not.toBe('')
  await waitFor(() => childPids(gateway.pid).length > 0, 'the forked worker')
  for (const pid of childPids(gateway.pid)) seen.add(pid)
})

afterAll(async () => {
  for (const session of sessions) session.kill()
  if (gateway !== undefined) {
    for (const pid of childPids(gateway.pid)) seen.add(pid)
    gateway.child.kill('SIGINT')
    await gateway.exited
    seen.add(gateway.pid)
  }
  await expectAllGone([...seen], 5000)
  await files?.remove()
})

function terminal(): TmuxSession {
  const session = new TmuxSession({ cwd: ROOT, width: 160, height: 40 })
  sessions.push(session)
  const { server, pane } = session.pids()
  seen.add(server).add(pane)
  return session
}

/** The lines of a capture that hold both the progress line's text and a log line's. */
function mixed(lines: readonly string[]): string[] {
  return lines.filter((line) => PROGRESS.test(line) && LOG.test(line))
}

/** Remembers the run-client(s) the shell started, to prove them gone later. */
function noteClients(session: TmuxSession): void {
  for (const pid of childPids(session.pids().pane)) seen.add(pid)
}

/** Captures the screen every 100 ms, checking each capture, until `done` holds for one; returns that capture. */
async function watch(session: TmuxSession, what: string, check: (lines: string[]) => void, done: (lines: string[]) => boolean, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    noteClients(session)
    const lines = session.capture()
    check(lines)
    if (done(lines)) return lines
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen:\n${lines.join('\n')}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const exitLine = (lines: readonly string[]): string | undefined => lines.find((line) => /^exit=\d+$/.test(line))

describe('a long run-client in a terminal, logging WARN lines while its progress line runs', () => {
  it('never prints a log line on the progress line, shows %, rate and ETA, and Ctrl+C gives the partial summary and 130', async () => {
    const commands = `${files.dir}/commands.txt`
    const port = await freePort()
    const session = terminal()
    // The window holds every batch, so the input is read at once and the total is known from the start.
    session.type(`${process.execPath} bin/run-client.js ${commands} -s ${endpoint} -b tcp://127.0.0.1:${port} --window 1024; echo exit=$?`)
    // Garbage on the results socket: each one is a WARN line from the client, in the middle of the run.
    const garbage = new Push({ linger: 0, sendTimeout: 200 })
    garbage.connect(`tcp://127.0.0.1:${port}`)
    let sending = true
    const sender = (async () => {
      while (sending) {
        await garbage.send(Buffer.from('not a CGP/1 header')).catch(() => undefined)
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    })()
    const noneMixed = (lines: string[]): void => expect(mixed(lines), lines.join('\n')).toEqual([])
    let warnings = 0
    try {
      await watch(
        session,
        'the complete progress line and three WARN lines above it',
        noneMixed,
        (lines) => {
          warnings = lines.filter((line) => /\bWARN\b.*malformed message on results socket/.test(line)).length
          return warnings >= 3 && lines.some((line) => COMPLETE.test(line))
        },
        20_000,
      )
    } finally {
      sending = false
      await sender
      garbage.close()
    }
    const before = session.capture()
    const progress = before.filter((line) => COMPLETE.test(line))
    // One progress line on the screen (the bottom one), however many logs went by.
    expect(progress, before.join('\n')).toHaveLength(1)
    expect(progress[0]).toMatch(/^\d+\/8192 commands \(\d+ %\) · \d+ commands\/s · ETA \d\d:\d\d · \d+ batches in flight$/)
    session.keys('C-c')
    const after = await watch(session, 'the shell to print exit=', noneMixed, (lines) => exitLine(lines) !== undefined, 15_000)
    expect(exitLine(after)).toBe('exit=130')
    expect(after).toContain('status    interrupted')
    expect(after.some((line) => /^commands {2}8192 sent · \d+ ok · .* \d+ lost$/.test(line)), after.join('\n')).toBe(true)
    // The progress line was only ever the bottom row, and it is erased before the summary: no row keeps it.
    expect(after.filter((line) => PROGRESS.test(line)), after.join('\n')).toEqual([])
  }, 60_000)
})

describe('run-client in a terminal with no gateway listening', () => {
  it('shows the wait as one line counting the seconds in place, and logs one warning and one error', async () => {
    const commands = await files.write('few.txt', ['10.0.0.1:foo', '10.0.0.2:foo'])
    const port = await freePort()
    const session = terminal()
    session.type(`${process.execPath} bin/run-client.js ${commands} -s tcp://127.0.0.1:${port} -b 'tcp://127.0.0.1:*' --send-retries 6 --retry-delay 500; echo exit=$?`)
    const waiting = new RegExp(`^waiting for tcp://127\\.0\\.0\\.1:${port} … (\\d+) s · 0/2 commands \\(0 %\\)`)
    const shown = new Set<string>()
    const after = await watch(
      session,
      'the run to give up',
      (lines) => {
        const lines_ = lines.filter((line) => waiting.test(line))
        expect(lines_.length, lines.join('\n')).toBeLessThanOrEqual(1)
        for (const line of lines_) shown.add(waiting.exec(line)![1]!)
        expect(mixed(lines), lines.join('\n')).toEqual([])
      },
      (lines) => exitLine(lines) !== undefined,
      20_000,
    )
    expect(exitLine(after)).toBe('exit=1')
    // The same line, redrawn with the seconds going up.
    expect(shown.size, [...shown].join(',')).toBeGreaterThanOrEqual(2)
    expect(after.filter((line) => /\bWARN\b/.test(line))).toHaveLength(1)
    expect(after.filter((line) => /\bERROR\b/.test(line))).toHaveLength(1)
    expect(after).toContain('commands  2 read · 0 sent · 0 ok · 0 unknown · 0 failed · 0 timeout · 0 cancelled · 2 lost')
  }, 30_000)
})
