/**
 * The `exec` kind: runs a plugin as the Nagios plugin API defines it (see
 * checks.md). The program is spawned from an argv array, never through a
 * shell, as the leader of its own process group, with only `PATH` and
 * `LC_ALL=C` in its environment. Exit 0–3 is the state; the first line of
 * stdout (1 KiB at most) is the output. A timeout or an abort sends SIGTERM to
 * the group and SIGKILL one second later; after any exit, whatever is left in
 * the group is SIGKILLed, so no process outlives its check. The spawning
 * itself is done by this process's plugin host (plugin-host.ts), a small
 * helper process, because a fork of the worker costs far more CPU.
 */
import { FirstLine, splitPerfdata } from './plugin-output.js'
import { PluginHost, type HostedPlugin, type PluginEvents } from './plugin-host.js'
import { groupEnded, groupStarted, signalGroup } from './process-group.js'
import { watchRun, type RunWatch } from './run-watch.js'
import { substituteArg } from './substitute.js'
import type { CheckState, CheckValue, CheckRun, ExecCheck, RunCheck } from './types.js'

/** How long a plugin has between SIGTERM and SIGKILL (checks.md). */
export const KILL_GRACE_MS = 1000

/** The plugin's `PATH` when the worker has none. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** This process's plugin host (plugin-host.ts): every exec check of the process spawns through it. */
export const pluginHost = new PluginHost()

/** A newline, to complete a first line the host found complete (plugin-output.ts). */
const NEWLINE = Buffer.of(0x0a)

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
  const argv = check.argv.map((arg) => substituteArg(arg, run.address))
  const env = { PATH: process.env.PATH ?? DEFAULT_PATH, LC_ALL: 'C' }
  return new Promise((resolve, reject) => new PluginRun(argv, env, run, resolve, reject))
}

/**
 * One plugin, from its spawn request to its settled promise. The host spawns
 * it and relays what it does (plugin-host.ts); the time limit, the signals
 * to its group and the outcome are decided here.
 */
class PluginRun implements PluginEvents {
  private line = new FirstLine()
  private readonly watch: RunWatch
  private readonly plugin: HostedPlugin
  /** Its process and group, once the host has spawned it. */
  private pid: number | undefined = undefined
  /**
   * `starting` (asked of the host, no pid yet), `running`, then `exited` (the
   * plugin is gone, its output may still be in the pipe) or `killing`, then
   * `settled`.
   */
  private phase: 'starting' | 'running' | 'exited' | 'killing' | 'settled' = 'starting'
  private exit: { code: number | null; signal: NodeJS.Signals | null } = { code: null, signal: null }
  /** It has exited and its pipe is closed (or the host is gone): nothing of it is left. */
  private closed = false
  /** What to do once {@link closed}, when the outcome came first. */
  private conclusion: (() => void) | undefined = undefined
  private stopReason: unknown
  private killTimer: NodeJS.Timeout | undefined

  constructor(
    argv: readonly string[],
    env: Readonly<Record<string, string>>,
    run: CheckRun,
    private readonly resolve: (value: CheckValue) => void,
    private readonly reject: (reason: unknown) => void,
  ) {
    this.watch = watchRun(run, (reason) => this.stop(reason))
    this.plugin = pluginHost.spawn(argv, env, this)
  }

  onSpawn(pid: number): void {
    this.pid = pid
    // Killed at this process's exit if still running: its own session outlives a dying worker otherwise.
    groupStarted(pid)
    if (this.phase === 'killing') this.terminate()
    else if (this.phase === 'starting') this.phase = 'running'
  }

  onLine(bytes: Buffer, complete: boolean): void {
    // The line so far, whole each time: the latest replaces what came before.
    this.line = new FirstLine()
    this.line.push(bytes)
    if (complete && !this.line.done) this.line.push(NEWLINE)
  }

  onExit(code: number | null, signal: NodeJS.Signals | null): void {
    const pid = this.pid
    if (pid !== undefined) {
      // The leader is gone; what is left of its group is a straggler nobody will wait for.
      signalGroup(pid, 'SIGKILL')
      groupEnded(pid)
    }
    if (this.phase === 'killing') {
      clearTimeout(this.killTimer)
      this.settle(() => this.reject(this.stopReason))
      return
    }
    if (this.phase !== 'running') return
    this.phase = 'exited'
    this.exit = { code, signal }
    // Else the rest of the line may still be in the pipe: it comes by the close.
    if (this.line.done) this.finish()
  }

  /** The program could not be spawned (no pid, no exit to come), or failed after it was. */
  onError(error: Error): void {
    if (this.pid !== undefined) {
      // Not a spawn failure (nothing else here emits one), but end the plugin all the same.
      this.stop(error)
      return
    }
    if (this.phase === 'settled') return
    const stopped = this.phase === 'killing'
    this.settle(() => this.reject(stopped ? this.stopReason : error))
  }

  onClose(): void {
    this.closed = true
    // Its pipe has ended too: the line is what it is.
    if (this.phase === 'exited') this.finish()
    const conclude = this.conclusion
    this.conclusion = undefined
    conclude?.()
  }

  onLost(reason: Error): void {
    if (this.pid !== undefined) groupEnded(this.pid)
    clearTimeout(this.killTimer)
    if (this.phase !== 'settled') {
      const stopped = this.phase === 'killing'
      this.settle(() => this.reject(stopped ? this.stopReason : reason))
    }
    this.onClose()
  }

  /** Its time limit or its signal: SIGTERM to the group (once it has one), SIGKILL a second later. */
  private stop(reason: unknown): void {
    if (this.phase === 'exited') {
      // The plugin has exited and only its output is awaited (something it left holds the pipe): use what came.
      this.finish()
      return
    }
    if (this.phase !== 'running' && this.phase !== 'starting') return
    const starting = this.phase === 'starting'
    this.phase = 'killing'
    this.stopReason = reason
    if (!starting) this.terminate()
  }

  private terminate(): void {
    const pgid = this.pid!
    signalGroup(pgid, 'SIGTERM')
    this.killTimer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), KILL_GRACE_MS)
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

  /** Ends the run: `conclude` is called once the plugin and its pipe are closed, so nothing of the plugin is left. */
  private settle(conclude: () => void): void {
    this.phase = 'settled'
    this.watch.dispose()
    if (this.closed) {
      conclude()
      return
    }
    this.conclusion = conclude
    // Something the plugin left (outside its group) may still hold the pipe: stop reading it.
    this.plugin.destroyStdout()
  }
}
