// Shared pieces of the chaos scenarios (bench/chaos.mjs): a seeded PRNG, fd
// counts from /proc, a free TCP port, the client's JSON summary, and a
// gateway handle that keeps reading its stdout and stderr after `listening`,
// so that its exit line (`… K malformed …`) and its log can be checked.
import { readdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { alive, children, groupAlive, killGroup, removeGatewaySocket, runServer, startAndWaitFor, waitFor } from './proc.mjs'

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with the same choices. */
export function prng(seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    bytes(n) {
      const b = Buffer.allocUnsafe(n)
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256)
      return b
    },
  }
}

/** Open file descriptors of `pid`, or undefined once it is gone. */
export function fdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return undefined
  }
}

/** Live (non-zombie) direct children of `pid`: for a gateway, its forked workers. */
export const workerPids = (pid) => children(pid).filter(alive)

/** A TCP port that was free a moment ago (the kernel's pick for port 0). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** The last stdout line of a `run-client --json` run, parsed; throws with its output otherwise. */
export function clientSummary(result) {
  try {
    return JSON.parse(result.out.trim().split('\n').at(-1))
  } catch {
    throw new Error(`run-client exited ${result.code ?? result.signal} without a JSON summary:\n${result.out}\n${result.err.slice(-2000)}`)
  }
}

const SERVED = /served (\d+) batches · (\d+) messages · (\d+) malformed · (\d+) rejected · (\d+) workers lost/

/**
 * Starts `run-server` (its own process group, via proc.mjs) and waits for
 * `listening`. The log is read at `info` so that "worker ready" lines can be
 * awaited instead of slept for; stderr must be drained anyway or a chatty
 * gateway would block on a full pipe. Returns a handle:
 *   pid, endpoint, log {lines, byMsg, tail}, readyCount()
 *   waitReady(n)  until the gateway has logged n "worker ready" lines
 *   stop()        SIGINT (Ctrl+C) to the gateway, wait for the group to be empty,
 *                 SIGKILL it after `grace` ms; resolves {clean, exit} where exit is
 *                 the parsed `served …` line (undefined if it never came)
 */
export async function startGateway(args, { logLevel = 'info' } = {}) {
  const { child, match } = await startAndWaitFor(runServer, [...args, '--log-level', logLevel], /listening (\S+)/, {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const pid = child.pid
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const log = { lines: 0, byMsg: new Map(), tail: [] }
  let partial = ''
  child.stderr.on('data', (d) => {
    const lines = (partial + d).split('\n')
    partial = lines.pop()
    for (const line of lines) {
      log.lines++
      let msg = line
      try {
        msg = JSON.parse(line).msg ?? line
      } catch {
        // not pino JSON (a crash trace, say): counted by its text
      }
      log.byMsg.set(msg, (log.byMsg.get(msg) ?? 0) + 1)
      log.tail.push(line)
      if (log.tail.length > 50) log.tail.shift()
    }
  })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const readyCount = () => log.byMsg.get('worker ready') ?? 0
  return {
    pid,
    endpoint: match[1],
    log,
    child,
    readyCount,
    waitReady: (n, timeout = 15_000) => waitFor(() => readyCount() >= n, { timeout }),
    /** True while the gateway process runs. */
    running: () => child.exitCode === null && child.signalCode === null,
    async stop(grace = 20_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
      let timer
      const status = await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, grace, undefined)))])
      clearTimeout(timer)
      // Workers leave before the gateway's exit; give stragglers a moment, then make sure.
      const clean = status !== undefined && (await waitFor(() => !groupAlive(pid), { timeout: 5000 }))
      killGroup(pid)
      removeGatewaySocket(pid)
      const m = SERVED.exec(out)
      const exit = m ? { batches: +m[1], messages: +m[2], malformed: +m[3], rejected: +m[4], workersLost: +m[5] } : undefined
      return { clean, status, exit, out }
    },
  }
}

/** A row of the figures table. `met` is 'yes', 'no' or '—' (reported, no bound). */
export function row(id, figure, measured, expected = '—', met = '—') {
  return { id, figure, measured: String(measured), expected: String(expected), met: typeof met === 'boolean' ? (met ? 'yes' : 'no') : met }
}
