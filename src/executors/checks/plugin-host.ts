/**
 * The plugin host: one small helper process per worker that spawns the
 * `exec` plugins and relays what they do, so that the worker itself never
 * forks.
 *
 * Why: Node spawns with fork() + exec(), and fork copies the page tables of
 * the whole process and write-protects its memory; the worker's next writes
 * then fault page by page. The cost grows with the spawning process's memory:
 * a bare spawn loop took 495 µs of CPU per plugin from a process of ~10 MB
 * anonymous memory and 847 µs with 25 MB more, and a worker (~26 MB, busy
 * threads) 850–950 µs, against 10 µs in the worker plus 515–530 µs in a
 * host like this one (2000 runs of /bin/echo, 32 at once). Nagios 4 moved
 * its checks into worker processes for the same reason.
 *
 * The host is `node -e` with {@link PLUGIN_HOST_SOURCE} (plain JavaScript,
 * no file to find from src/, dist/ or the bundle): it reads spawn requests
 * as JSON lines on stdin and writes each plugin's events back on stdout.
 * It keeps no state but its plugins: the time limits, the process-group
 * kills and the outcome stay in the worker (exec.ts), which signals the
 * groups itself. The host:
 *
 * - spawns each plugin as exec.ts asks (its own group and session, the
 *   environment it is given, stdout only) and reports its pid at once;
 * - keeps the first line of stdout (1 KiB at most) and drains the rest;
 * - relays `error`, `exit` and `close`, and destroys a plugin's stdout when
 *   told to;
 * - ignores SIGINT, SIGTERM and SIGHUP (a Ctrl+C or a group-wide SIGTERM is
 *   the worker's to handle), and when its stdin ends, which it does when the
 *   worker exits, however it exits, SIGKILL included, it SIGKILLs the group
 *   of every plugin still running and exits.
 *
 * The worker starts it on the first `exec` check and keeps it, unref'd (an
 * idle host keeps no process alive); if it dies, the checks it was running
 * fail (code 2) after their groups are SIGKILLed, and the next check starts
 * a new one.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import { signalGroup } from './process-group.js'

/**
 * The host's program. Messages are JSON lines. In: `{"t":"spawn","i":ID,"argv":[…],"env":{…}}`
 * (`env` only when it differs from the last one) and `{"t":"destroy","i":ID}`. Out: one object
 * per plugin per turn of the event loop, with what happened to it since the last one, in this
 * order: `pid`, `b` (the first line so far, base64, `c: 1` once complete), `err`, `exit`
 * (`[code, signal]`) and `close`.
 */
export const PLUGIN_HOST_SOURCE = `'use strict'
const { spawn } = require('node:child_process')
const { createInterface } = require('node:readline')
const MAX = 1024
const runs = new Map()
/** Plugins with news since the last flush, and the news. */
const news = new Map()
let env = {}
function tell(run, key, value) {
  let message = news.get(run.i)
  if (message === undefined) {
    message = { i: run.i }
    news.set(run.i, message)
    if (news.size === 1) setImmediate(flush)
  }
  message[key] = value
}
function flush() {
  if (news.size === 0) return
  let text = ''
  for (const message of news.values()) text += JSON.stringify(message) + '\\n'
  news.clear()
  process.stdout.write(text)
}
/** The first line so far: kept when complete, re-sent whole otherwise. */
function tellLine(run) {
  if (run.told) return
  if (run.done) run.told = true
  tell(run, 'b', run.bytes === undefined ? '' : run.bytes.toString('base64', 0, run.length))
  if (run.done) tell(run, 'c', 1)
}
// The worker is gone (its end of the pipes closed): nothing of its plugins may stay.
function leave() {
  for (const run of runs.values()) {
    if (run.child.pid !== undefined) try { process.kill(-run.child.pid, 'SIGKILL') } catch {}
  }
  process.exit(0)
}
for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(name, () => {})
process.stdout.on('error', leave)
createInterface({ input: process.stdin })
  .on('line', (line) => {
    let message
    try { message = JSON.parse(line) } catch { return }
    if (message.t === 'spawn') start(message.i, message.argv, message.env)
    else if (message.t === 'destroy') runs.get(message.i)?.child.stdout?.destroy()
  })
  .on('close', leave)
function start(i, argv, given) {
  if (given !== undefined) env = given
  const run = { i, child: undefined, bytes: undefined, length: 0, done: false, told: false, closed: false }
  const close = () => {
    if (run.closed) return
    run.closed = true
    runs.delete(i)
    tellLine(run)
    tell(run, 'close', 1)
  }
  try {
    run.child = spawn(argv[0], argv.slice(1), { detached: true, env, stdio: ['ignore', 'pipe', 'ignore'] })
  } catch (error) {
    tell(run, 'err', { message: String(error?.message), code: error?.code })
    close()
    return
  }
  const child = run.child
  runs.set(i, run)
  if (child.pid !== undefined) tell(run, 'pid', child.pid)
  const stdout = child.stdout
  stdout?.on('data', (chunk) => {
    if (run.done) return
    const newline = chunk.indexOf(10)
    const room = MAX - run.length
    const end = newline === -1 ? Math.min(chunk.length, room) : Math.min(newline, room)
    run.done = newline !== -1 || run.length + end === MAX
    if (run.length === 0 && run.done) {
      // The usual case: the whole line in the first chunk, no copy.
      run.bytes = chunk
      run.length = end
    } else {
      run.bytes ??= Buffer.allocUnsafe(MAX)
      chunk.copy(run.bytes, run.length, 0, end)
      run.length += end
    }
    if (run.done) tellLine(run)
  })
  child.once('error', (error) => {
    tell(run, 'err', { message: String(error?.message), code: error?.code })
    // A spawn that failed before its pipes were made (EMFILE) has no 'close' to come.
    if (child.pid === undefined && stdout === null) close()
  })
  child.once('exit', (code, signal) => {
    // What came of the line so far: all there will be if something the plugin left holds the pipe.
    tellLine(run)
    tell(run, 'exit', [code, signal])
  })
  child.once('close', close)
}
`

/** What a plugin does, as the host relays it, in the order it happened. */
export interface PluginEvents {
  /** It runs, as process and process group `pid`. */
  onSpawn(pid: number): void
  /**
   * Its first line so far (at most 1 KiB), replacing what came before:
   * `complete` once a newline or the limit came (then it is the last).
   */
  onLine(bytes: Buffer, complete: boolean): void
  /** It could not be spawned (ENOENT, EACCES, …), or failed after. */
  onError(error: Error): void
  /** It exited with `code`, or was killed by `signal`; its output may still be in the pipe. */
  onExit(code: number | null, signal: NodeJS.Signals | null): void
  /** It has exited and its pipe is closed (its line is final): nothing of it is left in the host. */
  onClose(): void
  /**
   * The host went away before the plugin closed (`reason` says how); its
   * group, when it had one, was SIGKILLed, and no other event will come.
   */
  onLost(reason: Error): void
}

/** A plugin the host was asked to spawn. */
export interface HostedPlugin {
  /** Asks the host to stop reading its stdout (something it left outside its group holds the pipe). */
  destroyStdout(): void
}

/** What the host says of one plugin at a time: what happened to it since it last said, processed in this order. */
interface HostMessage {
  readonly i: number
  readonly pid?: number
  readonly b?: string
  readonly c?: 1
  readonly err?: { readonly message: string; readonly code?: string }
  readonly exit?: readonly [number | null, NodeJS.Signals | null]
  readonly close?: 1
}

interface Run {
  readonly events: PluginEvents
  pid: number | undefined
}

/** One host process and the plugins it was asked for. */
class HostProcess {
  readonly child: ChildProcessByStdio<Writable, Readable, null>
  readonly runs = new Map<number, Run>()
  /** Ended (close() or its death): it takes no more plugins. */
  ended = false
  private nextId = 0
  private outgoing: string[] = []
  private input = ''
  /** The last environment sent, as JSON: the host spawns with it until told another. */
  private lastEnv: string | undefined = undefined

  constructor(onGone: (host: HostProcess) => void) {
    const child = spawn(process.execPath, ['-e', PLUGIN_HOST_SOURCE], { stdio: ['pipe', 'pipe', 'inherit'] })
    this.child = child
    this.keepAlive(false)
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (text: string) => this.receive(text))
    // Writes after the host died fail with EPIPE: its death is handled once, on 'close'.
    child.stdin.on('error', () => undefined)
    let failed: Error | undefined
    child.once('error', (error) => (failed = error))
    child.once('close', (code, signal) => {
      this.ended = true
      this.lose(failed === undefined ? `exited (${signal ?? `code ${code}`})` : `could not run (${failed.message})`)
      onGone(this)
    })
  }

  spawn(argv: readonly string[], env: Readonly<Record<string, string>>, events: PluginEvents): HostedPlugin {
    const id = ++this.nextId
    const run: Run = { events, pid: undefined }
    this.runs.set(id, run)
    if (this.runs.size === 1) this.keepAlive(true)
    // The environment only when it changed: it is the same PATH and LC_ALL for nearly every plugin.
    const envText = JSON.stringify(env)
    if (envText === this.lastEnv) {
      this.send({ i: id, t: 'spawn', argv })
    } else {
      this.lastEnv = envText
      this.send({ i: id, t: 'spawn', argv, env })
    }
    return {
      destroyStdout: () => {
        if (this.runs.get(id) === run) this.send({ i: id, t: 'destroy' })
      },
    }
  }

  /** Closes its stdin: it SIGKILLs what still runs and exits. */
  end(): void {
    this.ended = true
    this.flush()
    this.child.stdin.end()
  }

  private send(message: object): void {
    this.outgoing.push(JSON.stringify(message))
    // One write per turn of the event loop, however many plugins start in it.
    if (this.outgoing.length === 1) setImmediate(() => this.flush())
  }

  private flush(): void {
    if (this.outgoing.length === 0 || this.child.stdin.writableEnded) return
    const lines = this.outgoing
    this.outgoing = []
    this.child.stdin.write(`${lines.join('\n')}\n`)
  }

  private receive(text: string): void {
    this.input += text
    let start = 0
    for (let end = this.input.indexOf('\n'); end !== -1; end = this.input.indexOf('\n', start)) {
      const line = this.input.slice(start, end)
      start = end + 1
      if (line.length === 0) continue
      let message: HostMessage
      try {
        message = JSON.parse(line) as HostMessage
      } catch {
        continue // not ours to crash on: the plugin it was about times out
      }
      this.dispatch(message)
    }
    this.input = this.input.slice(start)
  }

  private dispatch(message: HostMessage): void {
    const run = this.runs.get(message.i)
    if (run === undefined) return
    const events = run.events
    if (message.pid !== undefined) {
      run.pid = message.pid
      events.onSpawn(message.pid)
    }
    if (message.b !== undefined) events.onLine(Buffer.from(message.b, 'base64'), message.c === 1)
    if (message.err !== undefined) events.onError(Object.assign(new Error(message.err.message), message.err.code === undefined ? {} : { code: message.err.code }))
    if (message.exit !== undefined) events.onExit(message.exit[0], message.exit[1])
    if (message.close === 1) {
      this.runs.delete(message.i)
      if (this.runs.size === 0) this.keepAlive(false)
      events.onClose()
    }
  }

  /**
   * A host with plugins keeps this process alive until they have closed (a
   * check may have settled and still wait for its plugin's pipe to close);
   * an idle one keeps nothing alive.
   */
  private keepAlive(on: boolean): void {
    const handles = [this.child, this.child.stdin, this.child.stdout] as { ref(): void; unref(): void }[]
    for (const handle of handles) {
      if (on) handle.ref()
      else handle.unref()
    }
  }

  /** The host is gone: every plugin it still had is SIGKILLed (its group, when known) and lost. */
  private lose(how: string): void {
    const runs = [...this.runs.values()]
    this.runs.clear()
    const reason = new Error(`the plugin host ${how}`)
    for (const run of runs) {
      if (run.pid !== undefined) signalGroup(run.pid, 'SIGKILL')
      run.events.onLost(reason)
    }
  }
}

/**
 * This process's plugin host: one helper process, started on the first
 * {@link spawn} and again after it died or was closed.
 *
 * @example
 * const host = new PluginHost()
 * const plugin = host.spawn(['/usr/lib/nagios/plugins/check_ping', '-H', '10.0.0.1'], { PATH: '/usr/bin', LC_ALL: 'C' }, events)
 */
export class PluginHost {
  private host: HostProcess | undefined

  /** The host's pid while it runs (for tests). */
  get pid(): number | undefined {
    return this.host?.child.pid
  }

  /** Spawns `argv` (no shell) in a group of its own with exactly `env`; `events` hears what it does. */
  spawn(argv: readonly string[], env: Readonly<Record<string, string>>, events: PluginEvents): HostedPlugin {
    if (this.host === undefined || this.host.ended) {
      this.host = new HostProcess((gone) => {
        if (this.host === gone) this.host = undefined
      })
    }
    return this.host.spawn(argv, env, events)
  }

  /**
   * Ends the host: its stdin closes, it SIGKILLs the group of every plugin
   * still running (whose checks then fail), and exits; resolves once it has.
   * The next spawn starts a new one.
   */
  async close(): Promise<void> {
    const host = this.host
    if (host === undefined) return
    this.host = undefined
    const exited = new Promise<void>((resolve) => host.child.once('close', () => resolve()))
    host.end()
    await exited
  }
}
