/**
 * Test helpers for real processes: waiting on conditions with deadlines
 * (never fixed sleeps), proving processes are gone, and running the CLIs.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** Polls `condition` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** True while a process with this pid exists (zombies count as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** Waits until every pid is gone; throws listing the survivors. */
export async function expectAllGone(pids: readonly number[], timeoutMs = 3000): Promise<void> {
  try {
    await waitFor(() => pids.every((pid) => !isAlive(pid)), 'processes to exit', timeoutMs)
  } catch {
    const alive = pids.filter(isAlive)
    for (const pid of alive) process.kill(pid, 'SIGKILL')
    throw new Error(`processes still alive after ${timeoutMs} ms: ${alive.join(', ')}`)
  }
}

/** Live (not zombie) processes whose /proc stat fields (after the name: state, ppid, pgrp, …) satisfy `matches`. */
function processesWhere(matches: (fields: string[]) => boolean): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (fields[0] !== 'Z' && matches(fields)) found.push(Number(entry))
    } catch {
      // the process exited while we looked
    }
  }
  return found
}

/** Pids of the direct children of `pid`, from /proc. */
export function childPids(pid: number): number[] {
  return processesWhere((fields) => Number(fields[1]) === pid)
}

/** Live processes whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  return processesWhere((fields) => Number(fields[2]) === pgid)
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

export interface RunningCli {
  readonly child: ChildProcess
  readonly pid: number
  stdout(): string
  stderr(): string
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Starts `bin/<name>.js` as a user would. `detached` gives it its own process
 * group, so a test can send Ctrl+C to the whole group as a terminal does.
 * `netns` runs it in that network namespace (`ip netns exec` execs it, so the
 * pid is still node's). `stdin: 'pipe'` gives the test `child.stdin` to write.
 * `cwd` (default: the repository) is where relative paths in its arguments resolve.
 * `env` is added to this process's environment for the child only.
 */
/** The programs in bin/. */
export type CliName = 'run-client' | 'run-server' | 'run-worker' | 'gateway-status' | 'gateway-keygen'

export function startCli(
  name: CliName,
  args: string[],
  options: { detached?: boolean; netns?: string; stdin?: 'pipe' | 'ignore'; cwd?: string; env?: Record<string, string> } = {},
): RunningCli {
  const command = [process.execPath, `${ROOT}bin/${name}.js`, ...args]
  const argv = options.netns === undefined ? command : ['ip', 'netns', 'exec', options.netns, ...command]
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: options.cwd ?? ROOT,
    env: options.env === undefined ? process.env : { ...process.env, ...options.env },
    detached: options.detached ?? false,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  return { child, pid: child.pid!, stdout: () => out, stderr: () => err, exited }
}

/** Runs a CLI to completion. */
export async function runCli(name: CliName, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = startCli(name, args)
  const { code } = await cli.exited
  return { code, stdout: cli.stdout(), stderr: cli.stderr() }
}

/**
 * Samples the peak resident set size (VmHWM in /proc) of a running process
 * every 10 ms until it exits; `peak()` is the largest value seen, in KiB.
 */
export function trackPeakRss(cli: RunningCli): { peak(): number } {
  let peak = 0
  const sample = (): void => {
    try {
      const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${cli.pid}/status`, 'utf8'))
      if (match !== null) peak = Math.max(peak, Number(match[1]))
    } catch {
      // exited between two samples
    }
  }
  sample()
  const timer = setInterval(sample, 10)
  void cli.exited.then(() => clearInterval(timer))
  return { peak: () => peak }
}
