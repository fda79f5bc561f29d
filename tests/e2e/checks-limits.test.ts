/**
 * `per_target` and `rate` (../shared/checks.md) through the whole product,
 * measured where the checks land: a plugin that logs when it starts and
 * ends, an HTTP server that logs when a request comes and when it answered,
 * a TCP listener that logs when a connection comes. One forked worker (the
 * limits hold per worker), two addresses, 127.0.0.1 and 127.0.0.2, with a
 * device on each; per_target with two clients at once, each with several
 * batches.
 * Each limit is also shown to bind: set loose, the same run breaks the bound.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fixtures, type Fixtures } from '../helpers/data.js'
import {
  linesOf,
  mostAtOnce,
  mostInWindow,
  onEveryHost,
  resultLines,
  startChecksServer,
  startHttpDevice,
  startTcpDevice,
  writePlugin,
  type ChecksServer,
  type Device,
} from '../helpers/check-devices.js'
import { childPids, expectAllGone, startCli, waitFor, type RunningCli } from '../helpers/processes.js'

const HOSTS = ['127.0.0.1', '127.0.0.2'] as const

let files: Fixtures
let clis: RunningCli[]
let pids: number[]
let devices: Device[]

beforeEach(async () => {
  files = await fixtures()
  clis = []
  pids = []
  devices = []
})

afterEach(async () => {
  for (const cli of clis) if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL')
  await expectAllGone([...pids, ...clis.map((cli) => cli.pid)], 5000)
  await waitFor(() => childPids(process.pid).length === 0, 'every child process of the test to be gone', 5000)
  await Promise.all(devices.map((device) => device.close()))
  await files.remove()
})

async function server(checks: string): Promise<ChecksServer> {
  const started = await startChecksServer(checks, 1)
  clis.push(started.cli)
  pids.push(...started.workers)
  return started
}

async function stop(gateway: ChecksServer): Promise<void> {
  gateway.cli.child.kill('SIGINT')
  expect((await gateway.cli.exited).code).toBe(0)
  await expectAllGone([gateway.cli.pid, ...gateway.workers])
}

/** `perHost` commands `check` for each address, interleaved, in batches of 4. */
function commands(check: string, perHost: number): string[] {
  return Array.from({ length: perHost }, () => HOSTS.map((host) => `${host}:${check}`)).flat()
}

/** run-client over `lines` in batches of `batchSize`; every answer must be OK. */
async function runClient(endpoint: string, lines: readonly string[], batchSize: number, n: number): Promise<void> {
  const file = await files.write(`commands-${n}.txt`, lines)
  const output = `${files.dir}/out-${n}.jsonl`
  const cli = startCli('run-client', [file, '-b', 'tcp://127.0.0.1:*', '-s', endpoint, '-n', String(batchSize), '--output', output])
  clis.push(cli)
  const { code } = await cli.exited
  expect(code, cli.stderr()).toBe(0)
  const results = await resultLines(output)
  expect(results.map((r) => [r.code, (r.value as { state: number }).state])).toEqual(lines.map(() => [0, 0]))
}

/** Two run-clients at once over the same commands, in batches of 4. */
async function twoClients(endpoint: string, lines: readonly string[]): Promise<void> {
  await Promise.all([0, 1].map((n) => runClient(endpoint, lines, 4, n)))
}

/** Start/end intervals per address, in ms, from the plugin's log lines `start|end <ns> <address> <pid>`. */
function pluginIntervals(log: string): Map<string, [number, number][]> {
  const starts = new Map<string, number>()
  const byHost = new Map<string, [number, number][]>()
  for (const line of linesOf(log)) {
    const [what, ns, host, pid] = line.split(' ') as [string, string, string, string]
    const ms = Number(ns) / 1e6
    if (what === 'start') starts.set(pid, ms)
    else byHost.set(host, [...(byHost.get(host) ?? []), [starts.get(pid)!, ms]])
  }
  return byHost
}

interface Measured {
  /** Per address: the most running at once. */
  perHost: number[]
  /** Over both addresses: the most running at once. */
  overall: number
  runs: number
}

/** 12 checks per address from two clients, each taking 300 ms, with `per_target = perTarget`; what the devices saw. */
async function measure(kind: 'exec' | 'http', perTarget: number): Promise<Measured> {
  const log = `${files.dir}/spans.log`
  let check: string[]
  let http: Device[] = []
  if (kind === 'exec') {
    await writePlugin(files, 'span.sh', [
      '# Logs its start and end (ns) with its address and pid: what ran at once is read off the log.',
      'echo "start $(date +%s%N) $2 $$" >> "$1"',
      'sleep 0.3',
      'echo "end $(date +%s%N) $2 $$" >> "$1"',
      'echo "OK - $2"',
    ])
    check = [`exec = ["./span.sh", "${log}", "{address}"]`]
  } else {
    http = await onEveryHost(HOSTS, async (host, port) => startHttpDevice(() => ({ status: 200, delayMs: 300 }), host, port))
    devices.push(...http)
    check = [`http = "http://{address}:${http[0]!.port}/slow"`]
  }
  const checks = await files.write('checks.toml', ['targets = ["127.0.0.0/8"]', '[defaults]', `per_target = ${perTarget}`, '[check.slow]', ...check])
  const gateway = await server(checks)
  await twoClients(gateway.endpoint, commands('slow', 6))
  await stop(gateway)
  const intervals =
    kind === 'exec'
      ? HOSTS.map((host) => pluginIntervals(log).get(host) ?? [])
      : http.map((device) => device.arrivals.map((a): [number, number] => [a.at, a.answeredAt!]))
  return {
    perHost: intervals.map(mostAtOnce),
    overall: mostAtOnce(intervals.flat()),
    runs: intervals.flat().length,
  }
}

describe('per_target', () => {
  it.each(['exec', 'http'] as const)('%s: with per_target = 2, at most 2 run at once against each address, while the other address runs in parallel', async (kind) => {
    const seen = await measure(kind, 2)
    expect(seen.runs).toBe(24)
    expect(seen.perHost).toEqual([2, 2])
    // Both addresses at once: the limit is per address, not per worker.
    expect(seen.overall).toBeGreaterThan(2)
  })

  it.each(['exec', 'http'] as const)('%s: with per_target = 8 the same run has more than 2 at once against one address', async (kind) => {
    const seen = await measure(kind, 8)
    expect(seen.runs).toBe(24)
    for (const most of seen.perHost) expect(most).toBeGreaterThan(2)
  })
})

/**
 * Arrivals are timed at the listener, a few ms after the worker started each
 * connect; a window this much shorter than 1 s absorbs that jitter.
 */
const JITTER_MS = 50

describe('rate', () => {
  async function arrivals(rate: string): Promise<number[][]> {
    const listeners = await onEveryHost(HOSTS, (host, port) => startTcpDevice(host, port))
    devices.push(...listeners)
    const checks = await files.write('checks.toml', ['targets = ["127.0.0.0/8"]', '[check.ssh]', `tcp = ${listeners[0]!.port}`, `rate = "${rate}"`])
    const gateway = await server(checks)
    // 16 connects per address in one batch: all queued at once, before the first starts. (p-queue's
    // windows are fixed, from the first start: commands that trickle in late in one window can start
    // together with the next window's, more than N within 1 s; docs/CHECKS.md says so.)
    await runClient(gateway.endpoint, commands('ssh', 16), 32, 0)
    await stop(gateway)
    return listeners.map((listener) => listener.arrivals.map((a) => a.at))
  }

  it('with rate = "5/s", no 1 s window holds more than 5 starts against one address, and the other address has its own 5', async () => {
    const [first, second] = await arrivals('5/s')
    for (const times of [first!, second!]) {
      // The 1 s windows let through 5, 5, 5 and the last 1, each group at least 1 s after the one before.
      expect(times).toHaveLength(16)
      expect(mostInWindow(times, 1000 - JITTER_MS)).toBe(5)
      for (const k of [5, 10, 15]) expect(times[k]! - times[k - 5]!).toBeGreaterThan(1000 - JITTER_MS)
    }
    // Per address: in the first window both addresses had their 5.
    expect(mostInWindow([...first!, ...second!], 1000 - JITTER_MS)).toBe(10)
  })

  it('with rate = "1000/s" the same run puts all its starts against one address in one window', async () => {
    const [first] = await arrivals('1000/s')
    expect(first).toHaveLength(16)
    expect(mostInWindow(first!, 1000 - JITTER_MS)).toBe(16)
    expect(Math.max(...first!) - Math.min(...first!)).toBeLessThan(1000 - JITTER_MS)
  })
})
