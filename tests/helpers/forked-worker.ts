/**
 * Forking the worker entry as the gateway does (src/gateway/worker-pool.ts),
 * for tests that play the gateway themselves: the config in
 * CGW_WORKER_CONFIG, this process as the parent, stderr kept.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { WORKER_ENTRY } from '../../dist/gateway/worker-pool.js'
import { ROOT } from './processes.js'

/** A forked worker's config with small limits; `gateway`, `id` and `executor` are the test's. */
export function forkedWorkerConfig(config: { readonly gateway: string; readonly id: string; readonly executor: { readonly module: string; readonly options?: unknown } }): Record<string, unknown> {
  return {
    capacity: 1,
    concurrency: 1,
    commandTimeoutMs: 0,
    heartbeatIntervalMs: 1000,
    heartbeatLiveness: 3,
    maxBatch: 10,
    maxMessageBytes: 65536,
    logLevel: 'info',
    gatewayPid: process.pid,
    ...config,
  }
}

export interface ForkedWorker {
  readonly child: ChildProcess
  /** What it wrote to stderr so far. */
  stderr(): string
  /** Its exit code (null when a signal ended it). */
  readonly exit: Promise<number | null>
}

export function forkWorkerEntry(config: Record<string, unknown>): ForkedWorker {
  const child = fork(WORKER_ENTRY, [], { cwd: ROOT, env: { ...process.env, CGW_WORKER_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { child, stderr: () => stderr, exit }
}

/** Its stderr as the JSON log lines they are. */
export function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .trim()
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}
