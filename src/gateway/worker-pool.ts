/**
 * The gateway's forked worker processes: forks them, tells when each exits,
 * and kills them. Workers that die right after starting (an executor module
 * that does not load, a broken install) are re-forked with exponential
 * back-off, 250 ms doubling to 30 s, not in a loop: a module that always
 * fails costs one fork per 30 s, and a fixed one is picked up within 30 s.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { EventEmitter } from 'node:events'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import type { ForkedWorkerConfig } from '../worker/main.js'
import type { Logger } from '../log.js'
import { CRASH_EXIT_CODE, writeCrashReport } from '../util/crash-report.js'
import { CONFIG_EXIT_CODE } from '../worker/exit-codes.js'
import { monotonicClock, type Clock } from '../util/clock.js'
import { ForkBackoff } from './fork-backoff.js'

/**
 * Entry point of a forked worker: the bundled one when the build made it
 * (one file loads in 109 ms against 139 ms for the ~60 modules it stands for,
 * and a worker that boots sooner serves the first client sooner), else the
 * compiled module. `new URL` resolves the same from dist/gateway and dist/bundle.
 */
export const WORKER_ENTRY = [new URL('../bundle/worker-main.js', import.meta.url), new URL('../worker/main.js', import.meta.url)]
  .map((url) => fileURLToPath(url))
  .find((path) => existsSync(path))!


/** How long a worker told to die (its IPC channel closed) has to exit by itself, killing its plugins, before its SIGKILL. */
export const KILL_AFTER_DISCONNECT_MS = 1000

export interface ForkedWorker {
  readonly id: string
  readonly pid: number
  readonly process: ChildProcess
  readonly forkedAt: number
  ready: boolean
  readonly exited: Promise<void>
}

export interface WorkerPoolEvents {
  spawn: [worker: { id: string; pid: number }]
  exit: [worker: { id: string; pid: number; code: number | null; signal: NodeJS.Signals | null; ready: boolean }]
}

export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  private readonly children = new Map<string, ForkedWorker>()
  /** Workers disconnected on their way to a SIGKILL (see {@link signal}). */
  private readonly killing = new Set<ForkedWorker>()
  private sequence = 0
  private readonly backoff = new ForkBackoff()

  constructor(
    private readonly config: Omit<ForkedWorkerConfig, 'id'>,
    private readonly idPrefix: string,
    private readonly logger: Logger,
    private readonly entry: string = WORKER_ENTRY,
    private readonly clock: Clock = monotonicClock,
  ) {
    super()
  }

  /** Live worker processes. */
  get size(): number {
    return this.children.size
  }

  /** Processes forked that have not said `ready` yet. */
  get starting(): number {
    let count = 0
    for (const child of this.children.values()) if (!child.ready) count++
    return count
  }

  /** Pids of live workers. */
  get pids(): number[] {
    return [...this.children.values()].map((child) => child.pid)
  }

  get(id: string): ForkedWorker | undefined {
    return this.children.get(id)
  }

  markReady(id: string): void {
    const child = this.children.get(id)
    if (child !== undefined && !child.ready) {
      child.ready = true
      this.backoff.workerReady()
    }
  }

  /** Forks one worker, unless crash back-off is in force. */
  spawn(): ForkedWorker | undefined {
    if (!this.backoff.mayFork(this.clock())) return undefined
    // Unguessable, so no remote worker can say ready under a fork's id before the fork does.
    const id = `${this.idPrefix}-w${++this.sequence}-${randomBytes(4).toString('hex')}`
    const config: ForkedWorkerConfig = { ...this.config, id }
    const child = fork(this.entry, [], {
      env: { ...process.env, CGW_WORKER_CONFIG: JSON.stringify(config) },
      // The gateway's own flags (a test runner's loaders, say) are not the worker's business;
      // CGW_WORKER_NODE_FLAGS passes flags on purpose, e.g. "--cpu-prof" to profile workers.
      execArgv: (process.env.CGW_WORKER_NODE_FLAGS ?? '').split(' ').filter((flag) => flag.length > 0),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    if (child.pid === undefined) {
      this.logger.error({ id }, 'fork failed')
      this.logBackoff(this.backoff.forkFailed(this.clock()))
      return undefined
    }
    const pid = child.pid
    let markExited!: () => void
    const worker: ForkedWorker = {
      id,
      pid,
      process: child,
      forkedAt: this.clock(),
      ready: false,
      exited: new Promise((resolve) => (markExited = resolve)),
    }
    // 'error' on a forked child means a failed send or kill; 'exit' still follows if it dies.
    child.on('error', (error) => this.logger.warn({ id, err: error.message }, 'worker process error'))
    child.once('exit', (code, signal) => {
      this.children.delete(id)
      // A worker exits 0, or is killed by a signal (ours, or a test's); any other code is a failure
      // (70 is a crash the worker reported itself), and under the test suite it fails the test.
      if (code !== 0 && code !== CRASH_EXIT_CODE && code !== null) {
        writeCrashReport('gateway', `forked worker ${id} (pid ${pid}) exited with code ${code}\n`)
      }
      if (code === CONFIG_EXIT_CODE) this.logger.error({ id, pid }, 'worker could not load its executor (its log line says why)')
      const pauseMs = this.backoff.workerExited({ forkedAt: worker.forkedAt, ready: worker.ready, code, configFailure: code === CONFIG_EXIT_CODE }, this.clock())
      if (pauseMs !== undefined) this.logBackoff(pauseMs)
      this.emit('exit', { id, pid, code, signal, ready: worker.ready })
      markExited()
    })
    this.children.set(id, worker)
    this.emit('spawn', { id, pid })
    return worker
  }

  kill(id: string, signal: NodeJS.Signals): void {
    const child = this.children.get(id)
    if (child !== undefined) this.signal(child, signal)
  }

  /** Sends `signal` to every live worker. */
  killAll(signal: NodeJS.Signals): void {
    for (const child of this.children.values()) this.signal(child, signal)
  }

  /**
   * SIGKILL closes the worker's IPC channel first and kills it only
   * {@link KILL_AFTER_DISCONNECT_MS} later if it is still there: a worker
   * that sees its gateway gone kills its plugins' process groups as it exits,
   * and those live in sessions of their own, which a SIGKILL of the worker
   * would leave running. A worker that is hung gets its SIGKILL all the same.
   */
  private signal(child: ForkedWorker, signal: NodeJS.Signals): void {
    if (signal !== 'SIGKILL' || !child.process.connected) {
      if (signal !== 'SIGKILL' || !this.killing.has(child)) child.process.kill(signal)
      return
    }
    this.killing.add(child)
    child.process.disconnect()
    const timer = setTimeout(() => child.process.kill('SIGKILL'), KILL_AFTER_DISCONNECT_MS)
    void child.exited.then(() => {
      clearTimeout(timer)
      this.killing.delete(child)
    })
  }

  /** Resolves when every worker forked so far has exited. */
  async allExited(): Promise<void> {
    await Promise.all([...this.children.values()].map((child) => child.exited))
  }

  private logBackoff(retryInMs: number): void {
    this.logger.warn({ crashes: this.backoff.bootDeaths, retryInMs }, 'worker died during start-up; backing off')
  }
}
