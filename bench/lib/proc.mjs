// Process helpers for the benchmark: spawning with bookkeeping, the gateway's
// start and stop, /proc readers, waiting for conditions, and small statistics.
//
// Every child is spawned in its own process group (detached) and remembered
// until its group is empty, so that one `kill(-pgid)` also takes the gateway's
// forked workers, and the exit handler below can clean up after any failure or
// Ctrl+C of the bench itself.
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('../..', import.meta.url))
export const node = process.execPath
/** The CLIs as a user runs them: the executables themselves, so their shebangs' V8 flags apply. */
export const runClient = join(root, 'bin', 'run-client.js')
export const runServer = join(root, 'bin', 'run-server.js')
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Process group ids (= pids of our direct children) that may still have members. */
const groups = new Set()

/** True while the process group `pgid` has a member. */
export function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

/** SIGKILLs every process group we started that still has a member. Synchronous: safe in 'exit'. */
export function killAll() {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL')
    } catch {
      // already gone
    }
    groups.delete(pgid)
    removeGatewaySocket(pgid) // the pgid is the gateway's pid, if it was one
  }
}

// The bench's own exit, failure or Ctrl+C must never leave a gateway or worker behind.
process.on('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, killing every process it started`)
    killAll()
    process.exit(130)
  })
}

/**
 * Spawns a tracked child in its own process group; stdout/stderr are piped
 * unless `stdio` says otherwise. The group is forgotten only once it is empty.
 */
export function start(command, args, options = {}) {
  const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options })
  groups.add(child.pid)
  child.once('exit', () => {
    if (!groupAlive(child.pid)) groups.delete(child.pid)
  })
  return child
}

/** SIGKILLs a child's whole group (the child and anything it forked) and forgets it. */
export function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // already gone
  }
  groups.delete(pid)
}

/**
 * Runs a command to completion: { code, out, err, ms, pid }. `ms` is the wall
 * time from spawn to the process's exit (what a user waits for). `onStart`
 * gets the child right after the spawn (to watch its pid).
 */
export function run(command, args, { onStart, ...options } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = start(command, args, options)
    onStart?.(child)
    let out = ''
    let err = ''
    let ms
    child.stdout?.on('data', (d) => (out += d))
    child.stderr?.on('data', (d) => (err += d))
    child.once('error', reject)
    child.once('exit', () => (ms = performance.now() - started))
    // 'close' comes after the output is complete; the time was taken at 'exit'.
    child.once('close', (code, signal) => {
      killGroup(child.pid) // anything it left in its group
      resolve({ code, signal, out, err, ms, pid: child.pid })
    })
  })
}

/** Runs a node script and parses the last line of its stdout as JSON; throws with its stderr otherwise. */
export async function runJson(args, options) {
  const result = await run(node, args, options)
  const last = result.out.trim().split('\n').at(-1) ?? ''
  try {
    return { ...result, json: JSON.parse(last) }
  } catch {
    throw new Error(`${args.join(' ')} exited ${result.code ?? result.signal} without JSON:\n${result.out}\n${result.err}`)
  }
}

/** Polls `condition` every `interval` ms until it is true; false on timeout. */
export async function waitFor(condition, { timeout = 10_000, interval = 10 } = {}) {
  const deadline = performance.now() + timeout
  while (!(await condition())) {
    if (performance.now() > deadline) return false
    await sleep(interval)
  }
  return true
}

/** Starts a child and resolves with the first `pattern` match on its stdout (e.g. `listening <endpoint>`). */
export function startAndWaitFor(command, args, pattern, { timeout = 15_000, ...options } = {}) {
  const child = start(command, args, { stdio: ['ignore', 'pipe', 'inherit'], ...options })
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => {
      killGroup(child.pid)
      reject(new Error(`${args.join(' ')}: no ${pattern} within ${timeout} ms; stdout so far:\n${out}`))
    }, timeout)
    child.stdout.on('data', (d) => {
      out += d
      const match = pattern.exec(out)
      if (match) {
        clearTimeout(timer)
        resolve({ child, match })
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${args.join(' ')} exited (${code ?? signal}) before printing ${pattern}:\n${out}`))
    })
  })
}

/**
 * Starts `run-server` with `args` and waits for its `listening <endpoint>` line.
 * Returns { pid, endpoint, stop }: stop() sends SIGINT (the user's Ctrl+C),
 * waits for the gateway and its workers to be gone, and SIGKILLs the group if
 * that takes longer than `grace` ms. Call it in a finally.
 */
export async function startServer(args) {
  const { child, match } = await startAndWaitFor(runServer, [...args, '--log-level', 'warn'], /listening (\S+)/)
  const pid = child.pid
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return {
    pid,
    endpoint: match[1],
    async stop(grace = 15_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
      let timer
      const clean = await Promise.race([exited.then(() => true), new Promise((resolve) => (timer = setTimeout(resolve, grace, false)))])
      clearTimeout(timer) // a pending timer would keep the bench alive after its last row
      // Workers leave after the gateway; the next scenario needs an idle machine.
      const empty = clean && (await waitFor(() => !groupAlive(pid), { timeout: 5000 }))
      if (!empty) console.error(`bench: gateway ${pid} and its workers were not gone ${grace} ms after SIGINT; killed`)
      killGroup(pid)
      removeGatewaySocket(pid)
      return empty
    },
  }
}

/**
 * Removes the ipc:// socket file a gateway with this pid left in the temp
 * directory (`cgw-<id>-<pid>-<hex>.sock`): a SIGKILLed gateway cannot remove
 * its own, and a bench run should not leave files behind.
 */
export function removeGatewaySocket(pid) {
  for (const name of readdirSync(tmpdir())) {
    if (new RegExp(`^cgw-[0-9a-f]+-${pid}-[0-9a-f]+\\.sock$`).test(name)) rmSync(join(tmpdir(), name), { force: true })
  }
}

/** Direct children of `pid` (from /proc/<n>/stat's ppid field). */
export function children(pid) {
  const result = []
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) result.push(Number(entry))
    } catch {
      // exited while we looked
    }
  }
  return result
}

/** True if `pid` exists and is not a zombie. */
export function alive(pid) {
  try {
    process.kill(pid, 0)
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** VmRSS and VmHWM of `pid` in bytes, or undefined once it is gone. */
export function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
    const rss = kb('VmRSS')
    return Number.isNaN(rss) ? undefined : { rss, hwm: kb('VmHWM') }
  } catch {
    return undefined
  }
}

/** Calls `sample()` every `ms` until the returned stop() is called. */
export function every(ms, sample) {
  sample()
  const timer = setInterval(sample, ms)
  return () => clearInterval(timer)
}

// --- statistics -----------------------------------------------------------

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Nearest-rank percentile of `xs` (p in 0..100). */
export function percentile(xs, p) {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

// --- formatting -------------------------------------------------------------

export const fmtInt = (n) => Math.round(n).toLocaleString('en-US').replaceAll(',', ' ')
export const fmtS = (ms) => `${(ms / 1000).toFixed(3)} s`
export const fmtMB = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
