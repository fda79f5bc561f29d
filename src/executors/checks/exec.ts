/**
 * The `exec` kind: runs a plugin as the Nagios plugin API defines it (see
 * checks.md). The program is spawned from an argv array, never through a
 * shell, as the leader of its own process group, with only `PATH` and
 * `LC_ALL=C` in its environment. Exit 0–3 is the state; the first line of
 * stdout (1 KiB at most) is the output. A timeout or an abort sends SIGTERM to
 * the group and SIGKILL one second later; after any exit, whatever is left in
 * the group is SIGKILLed, so no process outlives its check.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { FirstLine, splitPerfdata } from './plugin-output.js'
import { groupEnded, groupStarted, signalGroup } from './process-group.js'
import { watchRun, type RunWatch } from './run-watch.js'
import { substituteArg } from './substitute.js'
import type { CheckState, CheckValue, CheckRun, ExecCheck, RunCheck } from './types.js'

/** How long a plugin has between SIGTERM and SIGKILL (checks.md). */
export const KILL_GRACE_MS = 1000

/** The plugin's `PATH` when the worker has none. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/**
 * Runs `check.argv`, with `{address}` substituted in each argument, against
 * `run.address`. Resolves with the state of exit 0–3; rejects with
 * `exited with code N`, `killed by SIGNAME` or the spawn error
 * (`spawn /path ENOENT`), with `CommandTimeoutError` after `run.timeoutMs`,
 * or with the signal's reason. It settles only once the plugin has exited and
 * its group has been killed.
 *
 * @example
 * await runExec({ kind: 'exec', argv: ['/usr/lib/nagios/plugins/check_ping', '-H', '{address}'] }, run)
 * // { state: 0, output: 'PING OK - Packet loss = 0%', perfdata: 'rta=0.8ms;…', ms: 12.3 }
 */
export const runExec: RunCheck<ExecCheck> = (check, run) => {
  if (run.signal.aborted) return Promise.reject(run.signal.reason)
  const [program, ...args] = check.argv.map((arg) => substituteArg(arg, run.address))
  return new Promise((resolve, reject) => {
    let child: ChildProcess
    try {
      child = spawn(program!, args, {
        detached: true,
        env: { PATH: process.env.PATH ?? DEFAULT_PATH, LC_ALL: 'C' },
        stdio: ['ignore', 'pipe', 'ignore'],
      })
    } catch (error) {
      // An argument that spawn() rejects outright (a NUL byte) fails the check, not the worker.
      reject(error)
      return
    }
    // Killed at this process's exit if still running: its own session outlives a dying worker otherwise.
    if (child.pid !== undefined) groupStarted(child.pid)
    new PluginRun(child, run, resolve, reject)
  })
}

/** One plugin process, from spawn to its settled promise. */
class PluginRun {
  private readonly line = new FirstLine()
  private readonly watch: RunWatch
  /** `running`, then `exited` (the plugin is gone, its output may still be in the pipe) or `killing`, then `settled`. */
  private phase: 'running' | 'exited' | 'killing' | 'settled' = 'running'
  private exit: { code: number | null; signal: NodeJS.Signals | null } = { code: null, signal: null }
  private stdoutEnded = false
  /** The child's 'close': it has exited and its pipe is closed. */
  private closed = false
  private stopReason: unknown
  private killTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly child: ChildProcess,
    run: CheckRun,
    private readonly resolve: (value: CheckValue) => void,
    private readonly reject: (reason: unknown) => void,
  ) {
    const stdout = child.stdout
    // Reading on after the first line is what keeps a chatty plugin from blocking on a full pipe.
    stdout?.on('data', (chunk: Buffer) => this.line.push(chunk))
    stdout?.once('end', () => this.onStdoutEnd())
    stdout?.on('error', () => this.onStdoutEnd())
    // No pipe at all means a spawn that failed before it (EMFILE): its 'error' follows.
    this.stdoutEnded = stdout === null
    child.once('error', (error) => this.onError(error))
    child.once('exit', (code, signal) => this.onExit(code, signal))
    child.once('close', () => (this.closed = true))
    this.watch = watchRun(run, (reason) => this.stop(reason))
  }

  private stop(reason: unknown): void {
    if (this.phase === 'exited') {
      // The plugin has exited and only its output is awaited (something it left holds the pipe): use what came.
      this.finish()
      return
    }
    if (this.phase !== 'running') return
    this.phase = 'killing'
    this.stopReason = reason
    const pgid = this.child.pid!
    signalGroup(pgid, 'SIGTERM')
    this.killTimer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), KILL_GRACE_MS)
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    // The leader is gone; what is left of its group is a straggler nobody will wait for.
    signalGroup(this.child.pid!, 'SIGKILL')
    groupEnded(this.child.pid!)
    if (this.phase === 'killing') {
      clearTimeout(this.killTimer)
      this.settle(() => this.reject(this.stopReason))
      return
    }
    if (this.phase !== 'running') return
    this.phase = 'exited'
    this.exit = { code, signal }
    if (this.line.done || this.stdoutEnded) this.finish()
  }

  private onStdoutEnd(): void {
    this.stdoutEnded = true
    if (this.phase === 'exited') this.finish()
  }

  /** The program could not be spawned (no pid, no exit to come). */
  private onError(error: Error): void {
    if (this.child.pid !== undefined) {
      // Not a spawn failure (nothing else here emits one), but end the plugin all the same.
      this.stop(error)
      return
    }
    if (this.phase === 'settled') return
    this.settle(() => this.reject(error))
  }

  /** The plugin has exited: its exit code is the state. */
  private finish(): void {
    if (this.phase === 'settled') return
    const { code, signal } = this.exit
    const ms = this.watch.elapsedMs()
    if (signal !== null) this.settle(() => this.reject(new Error(`killed by ${signal}`)))
    else if (code === null || code > 3) this.settle(() => this.reject(new Error(`exited with code ${code}`)))
    else this.settle(() => this.resolve({ state: code as CheckState, ...splitPerfdata(this.line.text()), ms }))
  }

  /** Ends the run: `conclude` is called once the child and its pipe are closed, so nothing of the plugin is left. */
  private settle(conclude: () => void): void {
    this.phase = 'settled'
    this.watch.dispose()
    if (this.closed || (this.child.pid === undefined && this.child.stdout === null)) {
      conclude()
      return
    }
    this.child.once('close', conclude)
    // Something the plugin left (outside its group) may still hold the pipe: stop reading it.
    this.child.stdout?.destroy()
  }
}
