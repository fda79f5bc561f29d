/**
 * Devices for end-to-end tests of real checks, all on 127.0.0.0/8, that
 * record what reaches them with timestamps: a TCP listener, an HTTP server,
 * and plugin scripts written into a test's directory. Plus the glue to run
 * run-server (or run-worker) with a checks file and read run-client's JSONL.
 */
import { chmod, readFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createTcpServer, type Server, type Socket } from 'node:net'
import type { Fixtures } from './data.js'
import { childPids, groupMembers, startCli, waitFor, type RunningCli } from './processes.js'

/** One connection a device accepted: when (ms, performance.now()) it came and when it closed. */
export interface Arrival {
  readonly at: number
  closedAt: number | undefined
  /** For HTTP: the request's path, and when the response was ended. */
  path?: string
  answeredAt?: number
}

export interface Device {
  readonly host: string
  readonly port: number
  /** Connections (TCP) or requests (HTTP), in order of arrival. */
  readonly arrivals: Arrival[]
  /** Connections still open at the device's side. */
  open(): number
  close(): Promise<void>
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port }, () => {
      server.off('error', reject)
      const address = server.address()
      resolve(typeof address === 'object' && address !== null ? address.port : 0)
    })
  })
}

function tracked(server: Server, host: string, port: number, arrivals: Arrival[], sockets: Set<Socket>): Device {
  return {
    host,
    port,
    arrivals,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/**
 * A TCP listener on `host` that records every connection. By default it
 * keeps each one open until the peer closes it, so a test sees the checker
 * hang up; `hangUp` ends them at once instead.
 */
export async function startTcpDevice(host = '127.0.0.1', port = 0, options: { hangUp?: boolean } = {}): Promise<Device> {
  const arrivals: Arrival[] = []
  const sockets = new Set<Socket>()
  const server = createTcpServer((socket) => {
    const arrival: Arrival = { at: performance.now(), closedAt: undefined }
    arrivals.push(arrival)
    sockets.add(socket)
    socket.on('error', () => undefined)
    socket.on('data', () => undefined)
    socket.once('close', () => {
      arrival.closedAt = performance.now()
      sockets.delete(socket)
    })
    if (options.hangUp === true) socket.end()
  })
  const bound = await listen(server, host, port)
  return tracked(server, host, bound, arrivals, sockets)
}

/** What the HTTP device does with a request: answer `status` after `delayMs`, or never (`hang`). */
export type HttpBehaviour = { status: number; delayMs?: number } | 'hang'

/** An HTTP server on `host` that records every request and answers as `route(path)` says. */
export async function startHttpDevice(route: (path: string) => HttpBehaviour, host = '127.0.0.1', port = 0): Promise<Device> {
  const arrivals: Arrival[] = []
  const sockets = new Set<Socket>()
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const arrival: Arrival = { at: performance.now(), closedAt: undefined, path: req.url ?? '' }
    arrivals.push(arrival)
    res.once('close', () => (arrival.closedAt = performance.now()))
    const behaviour = route(req.url ?? '')
    if (behaviour === 'hang') return
    const answer = (): void => {
      arrival.answeredAt = performance.now()
      res.writeHead(behaviour.status, { 'content-type': 'text/plain' })
      res.end(`${behaviour.status}\n`)
    }
    if (behaviour.delayMs === undefined) answer()
    else setTimeout(answer, behaviour.delayMs)
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  const bound = await listen(server, host, port)
  return tracked(server, host, bound, arrivals, sockets)
}

/**
 * The same device on each of `hosts` at one port (a check's port or URL is
 * the same for every address): picks a port free on the first host and
 * tries again with another when a later host has it taken.
 */
export async function onEveryHost(hosts: readonly string[], start: (host: string, port: number) => Promise<Device>): Promise<Device[]> {
  for (let attempt = 0; ; attempt++) {
    const first = await start(hosts[0]!, 0)
    const devices = [first]
    try {
      for (const host of hosts.slice(1)) devices.push(await start(host, first.port))
      return devices
    } catch (error) {
      await Promise.all(devices.map((device) => device.close()))
      if (attempt >= 10) throw error
    }
  }
}

/** Writes an executable `#!/bin/sh` plugin `name` into the fixtures' directory. */
export async function writePlugin(files: Fixtures, name: string, lines: readonly string[]): Promise<string> {
  const path = await files.write(name, ['#!/bin/sh', ...lines])
  await chmod(path, 0o755)
  return path
}

/** The non-empty lines of `file`, or none while it does not exist. */
export function linesOf(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((line) => line !== '')
  } catch {
    return []
  }
}

/** A JSONL line run-client wrote with --output. */
export interface ResultLine {
  readonly line: number
  readonly address: string
  readonly command: string
  readonly code: number
  readonly outcome: string
  readonly value: unknown
  readonly ms: number
  readonly worker: string | null
}

/** run-client's --output lines, in the commands file's order. */
export async function resultLines(path: string): Promise<ResultLine[]> {
  const text = (await readFile(path, 'utf8')).trimEnd()
  return text
    .split('\n')
    .map((line) => JSON.parse(line) as ResultLine)
    .sort((a, b) => a.line - b.line)
}

/** Waits for run-server's `listening <endpoint>` line; throws with its stderr when it exits first. */
export async function endpointOf(server: RunningCli): Promise<string> {
  await waitFor(() => server.stdout().includes('listening ') || server.child.exitCode !== null, 'run-server to print its endpoint')
  const match = /listening (\S+)/.exec(server.stdout())
  if (match === null) throw new Error(`run-server exited ${server.child.exitCode}: ${server.stderr()}`)
  return match[1]!
}

/** A started run-server with `--checks`, its intake endpoint and its forked workers' pids. */
export interface ChecksServer {
  readonly cli: RunningCli
  readonly endpoint: string
  readonly workers: number[]
}

/**
 * run-server --checks FILE with exactly `workers` forked workers (min = max),
 * once they are all forked. Per-address limits hold per worker, so tests of
 * them use one.
 */
export async function startChecksServer(checks: string, workers: number, extra: string[] = []): Promise<ChecksServer> {
  const cli = startCli('run-server', ['--checks', checks, '-b', 'tcp://127.0.0.1:*', '-w', String(workers), '--min-workers', String(workers), '--log-level', 'warn', ...extra])
  const endpoint = await endpointOf(cli)
  await waitFor(() => childPids(cli.pid).length === workers, `${workers} forked worker(s)`)
  return { cli, endpoint, workers: childPids(cli.pid) }
}

/** Sorted timestamps: the most that fall in any window [t, t + windowMs). */
export function mostInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b)
  let most = 0
  let first = 0
  for (let last = 0; last < sorted.length; last++) {
    while (sorted[last]! - sorted[first]! >= windowMs) first++
    most = Math.max(most, last - first + 1)
  }
  return most
}

/** Intervals [start, end]: the most that overlap at any instant. */
export function mostAtOnce(intervals: readonly (readonly [number, number])[]): number {
  // Ends sort before starts at the same instant: touching is not overlapping.
  const events = intervals.flatMap(([start, end]) => [[start, 1] as const, [end, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let now = 0
  let most = 0
  for (const [, step] of events) most = Math.max(most, (now += step))
  return most
}

/**
 * For afterEach: the live members of the plugins' process groups `leaders`,
 * after SIGKILLing those groups, so a failed test leaves no sleeping plugin
 * behind; a test that passed leaves none to find.
 */
export function killGroups(leaders: readonly number[]): number[] {
  const left = leaders.flatMap(groupMembers)
  for (const leader of leaders) {
    try {
      process.kill(-leader, 'SIGKILL')
    } catch {
      // the group is gone already
    }
  }
  return left
}
