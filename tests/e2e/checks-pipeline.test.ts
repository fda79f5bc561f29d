/**
 * Real checks through the whole product (../shared/checks.md): run-client
 * sends `address:check` lines to run-server --checks, whose forked worker (or
 * a remote run-worker --checks) runs the exec, tcp and http kinds against
 * devices this test starts on 127.0.0.0/8, and the results come back in
 * run-client's JSONL and summary. Covers each kind in each state, the
 * timeout of each kind with nothing left behind (no plugin process, no
 * half-open connect, the HTTP server sees its connection close), an address
 * outside `targets` that reaches nothing, and Debian's own Nagios plugins.
 * The kinds alone are tested in tests/integration/checks-{exec,tcp,http}.
 */
import { existsSync, readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fixtures, type Fixtures } from '../helpers/data.js'
import {
  killGroups,
  linesOf,
  onEveryHost,
  resultLines,
  startChecksServer,
  startHttpDevice,
  startTcpDevice,
  writePlugin,
  type ChecksServer,
  type Device,
  type ResultLine,
} from '../helpers/check-devices.js'
import { childPids, expectAllGone, freePort, groupMembers, startCli, waitFor, type RunningCli } from '../helpers/processes.js'
import { startStalledListener, type StalledListener } from '../helpers/stalled-listener.js'

let files: Fixtures
let clis: RunningCli[]
let pids: number[]
/** Plugins' process-group leaders the test saw start. */
let groups: number[]
let devices: Device[]
let stalled: StalledListener[]

beforeEach(async () => {
  files = await fixtures()
  clis = []
  pids = []
  groups = []
  devices = []
  stalled = []
})

afterEach(async () => {
  const pluginsLeft = killGroups(groups)
  for (const cli of clis) if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL')
  await Promise.all(stalled.map((listener) => listener.close()))
  await expectAllGone([...pids, ...clis.map((cli) => cli.pid)], 5000)
  // Nothing of ours is left: no CLI, forked worker, plugin or stalled listener.
  await waitFor(() => childPids(process.pid).length === 0, 'every child process of the test to be gone', 5000)
  await Promise.all(devices.map((device) => device.close()))
  await files.remove()
  expect(pluginsLeft, 'plugin processes left behind').toEqual([])
})

async function server(checks: string, workers = 1, extra: string[] = []): Promise<ChecksServer> {
  const started = await startChecksServer(checks, workers, extra)
  clis.push(started.cli)
  pids.push(...started.workers)
  return started
}

/** Ctrl+C to run-server: it exits 0 and its workers are gone. */
async function stop(gateway: ChecksServer): Promise<void> {
  gateway.cli.child.kill('SIGINT')
  expect((await gateway.cli.exited).code).toBe(0)
  await expectAllGone([gateway.cli.pid, ...gateway.workers])
}

async function client(endpoint: string, commands: readonly string[], extra: string[] = []): Promise<{ code: number | null; stdout: string; lines: ResultLine[] }> {
  const file = await files.write(`commands-${clis.length}.txt`, commands)
  const output = `${files.dir}/out-${clis.length}.jsonl`
  const cli = startCli('run-client', [file, '-b', 'tcp://127.0.0.1:*', '-s', endpoint, '-n', '3', '--output', output, ...extra])
  clis.push(cli)
  const { code } = await cli.exited
  return { code, stdout: cli.stdout(), lines: await resultLines(output) }
}

async function device(made: Promise<Device>): Promise<Device> {
  const ready = await made
  devices.push(ready)
  return ready
}

/** The counts line and the states line of a text summary. */
function countsAndStates(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line.startsWith('commands  ') || line.startsWith('states    '))
}

/** A check value as it came back: `{state, output, perfdata?, ms}`. */
interface Value {
  state: number
  output: string
  perfdata?: string
  ms: number
}

/**
 * A check in every state of every kind, against a TCP listener, an HTTP
 * server (200 on /health, 503 on /broken) and a plugin that prints its
 * second argument with its third as perfdata and exits with its first.
 */
async function everyState(): Promise<{ checks: string; commands: string[]; tcp: Device; http: Device; expect(lines: ResultLine[], worker: string): void }> {
  const tcp = await device(startTcpDevice())
  const http = await device(startHttpDevice((path) => ({ status: path === '/health' ? 200 : 503 })))
  const closed = await freePort()
  await writePlugin(files, 'state.sh', ['# Prints "$2 | $3" and exits $1: a plugin in any state.', `printf '%s | %s\\n' "$2" "$3"`, 'exit "$1"'])
  const checks = await files.write('checks.toml', [
    'targets = ["127.0.0.1"]',
    '[defaults]',
    'timeout = "5s"',
    '[check.exec_ok]',
    'exec = ["./state.sh", "0", "OK - {address} fine", "load=0.10;5;10;0"]',
    '[check.exec_warning]',
    'exec = ["./state.sh", "1", "WARNING - {address} load 6", "load=6.00;5;10;0"]',
    '[check.exec_critical]',
    'exec = ["./state.sh", "2", "CRITICAL - {address} load 12", "load=12.00;5;10;0"]',
    '[check.exec_unknown]',
    'exec = ["./state.sh", "3", "UNKNOWN - {address} no reading", "load=U;5;10;0"]',
    '[check.exec_failed]',
    'exec = ["./state.sh", "5", "not a state", "x=1"]',
    '[check.tcp_open]',
    `tcp = ${tcp.port}`,
    '[check.tcp_closed]',
    `tcp = ${closed}`,
    '[check.http_ok]',
    `http = "http://{address}:${http.port}/health"`,
    '[check.http_status]',
    `http = "http://{address}:${http.port}/broken"`,
    '[check.http_refused]',
    `http = "http://{address}:${closed}/health"`,
  ])
  const names = ['exec_ok', 'exec_warning', 'exec_critical', 'exec_unknown', 'exec_failed', 'tcp_open', 'tcp_closed', 'http_ok', 'http_status', 'http_refused']
  const state = (line: number, command: string, value: Omit<Value, 'ms'>, worker: string): ResultLine => ({
    line,
    address: '127.0.0.1',
    command,
    code: 0,
    outcome: 'ok',
    value: { ...value, ms: expect.any(Number) },
    ms: expect.any(Number) as unknown as number,
    worker,
  })
  return {
    checks,
    commands: names.map((name) => `127.0.0.1:${name}`),
    tcp,
    http,
    expect(lines, worker) {
      expect(lines).toEqual([
        state(1, 'exec_ok', { state: 0, output: 'OK - 127.0.0.1 fine', perfdata: 'load=0.10;5;10;0' }, worker),
        state(2, 'exec_warning', { state: 1, output: 'WARNING - 127.0.0.1 load 6', perfdata: 'load=6.00;5;10;0' }, worker),
        state(3, 'exec_critical', { state: 2, output: 'CRITICAL - 127.0.0.1 load 12', perfdata: 'load=12.00;5;10;0' }, worker),
        state(4, 'exec_unknown', { state: 3, output: 'UNKNOWN - 127.0.0.1 no reading', perfdata: 'load=U;5;10;0' }, worker),
        { line: 5, address: '127.0.0.1', command: 'exec_failed', code: 2, outcome: 'failed', value: 'exited with code 5', ms: expect.any(Number), worker },
        state(6, 'tcp_open', { state: 0, output: expect.stringMatching(/^connected in \d+ ms$/) }, worker),
        state(7, 'tcp_closed', { state: 2, output: 'ECONNREFUSED' }, worker),
        state(8, 'http_ok', { state: 0, output: 'HTTP 200' }, worker),
        state(9, 'http_status', { state: 2, output: 'HTTP 503' }, worker),
        state(10, 'http_refused', { state: 2, output: 'ECONNREFUSED' }, worker),
      ])
      for (const line of lines) {
        // A check value's ms is the check's own, and the line's ms is that same number.
        if (typeof line.value === 'object' && line.value !== null) expect(line.ms, line.command).toBe((line.value as Value).ms)
        expect(line.ms, line.command).toBeGreaterThan(0)
        expect(line.ms, line.command).toBeLessThan(5000)
      }
    },
  }
}

const EVERY_STATE_SUMMARY = [
  'commands  10 sent · 9 ok · 0 unknown · 1 failed · 0 timeout · 0 cancelled · 0 lost',
  'states    3 ok · 1 warning · 4 critical · 1 unknown',
]

describe('each kind in each state, through run-server --checks and a forked worker', () => {
  it('answers every line of the JSONL field by field, prints the states line, and exits 1 for the failed plugin', async () => {
    const scenario = await everyState()
    const gateway = await server(scenario.checks)
    const run = await client(gateway.endpoint, scenario.commands)
    expect(run.code).toBe(1)
    expect(countsAndStates(run.stdout)).toEqual(EVERY_STATE_SUMMARY)
    const worker = run.lines[0]!.worker
    expect(worker).toMatch(/\S/)
    scenario.expect(run.lines, worker!)
    // The devices saw exactly the checks meant for them, and the tcp check hung up.
    expect(scenario.tcp.arrivals).toHaveLength(1)
    await waitFor(() => scenario.tcp.open() === 0, 'the tcp check to close its connection', 2000)
    expect(scenario.http.arrivals.map((a) => a.path).sort()).toEqual(['/broken', '/health'])
    await stop(gateway)
  })
})

describe('run-worker --checks, a remote worker over tcp to run-server -w 0', () => {
  it('runs the same checks with the same answers, named by its --id', async () => {
    const scenario = await everyState()
    const workersPort = await freePort()
    const gateway = await server(scenario.checks, 0, ['--workers-bind', `tcp://127.0.0.1:${workersPort}`])
    const remote = startCli('run-worker', ['-g', `tcp://127.0.0.1:${workersPort}`, '--checks', scenario.checks, '--id', 'remote-1', '--log-level', 'warn'])
    clis.push(remote)
    const run = await client(gateway.endpoint, scenario.commands)
    expect(run.code).toBe(1)
    expect(countsAndStates(run.stdout)).toEqual(EVERY_STATE_SUMMARY)
    scenario.expect(run.lines, 'remote-1')
    // The plugins ran as the children of run-worker's plugin host, its one child, and none is left.
    const hosts = childPids(remote.pid)
    expect(hosts).toHaveLength(1)
    expect(childPids(hosts[0]!)).toEqual([])
    expect(scenario.tcp.arrivals).toHaveLength(1)
    remote.child.kill('SIGINT')
    expect((await remote.exited).code).toBe(0)
    await stop(gateway)
  })
})

/** Sockets of this network namespace still connecting (SYN_SENT) to `port` on 127.0.0.1, from /proc/net/tcp. */
function connectingTo(port: number): number {
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((row) => row.trim().split(/\s+/))
    .filter((fields) => fields[2] === remote && fields[3] === '02').length
}

describe('the timeout of each kind, through a forked worker', () => {
  it('answers code 3 timeout, with the plugin’s process group gone, no connect left hanging and the HTTP connection closed', async () => {
    const pidFile = `${files.dir}/plugin-pids.txt`
    await writePlugin(files, 'sleeper.sh', ['# Names its process group in $1, then sleeps 30 s (its sleep shares the group).', 'echo $$ >> "$1"', 'sleep 30'])
    const listener = await startStalledListener()
    stalled.push(listener)
    const http = await device(startHttpDevice(() => 'hang'))
    const checks = await files.write('checks.toml', [
      'targets = ["127.0.0.1"]',
      '[defaults]',
      'timeout = "600ms"',
      '[check.exec_slow]',
      `exec = ["./sleeper.sh", "${pidFile}"]`,
      '[check.tcp_stalled]',
      `tcp = ${listener.port}`,
      '[check.http_hang]',
      `http = "http://{address}:${http.port}/hang"`,
    ])
    const gateway = await server(checks)
    const startedAt = performance.now()
    const running = client(gateway.endpoint, ['127.0.0.1:exec_slow', '127.0.0.1:tcp_stalled', '127.0.0.1:http_hang'])
    // While they run: the plugin and its sleep in one group, a connect hanging, a request held.
    await waitFor(() => linesOf(pidFile).length === 1 && connectingTo(listener.port) === 1 && http.arrivals.length === 1, 'the three checks to be under way')
    const plugin = Number(linesOf(pidFile)[0])
    pids.push(plugin)
    groups.push(plugin)
    expect(groupMembers(plugin)).toHaveLength(2)
    const run = await running
    const tookMs = performance.now() - startedAt
    expect(run.code).toBe(1)
    expect(countsAndStates(run.stdout)).toEqual(['commands  3 sent · 0 ok · 0 unknown · 0 failed · 3 timeout · 0 cancelled · 0 lost'])
    expect(run.lines.map(({ line, command, code, outcome, value }) => ({ line, command, code, outcome, value }))).toEqual([
      { line: 1, command: 'exec_slow', code: 3, outcome: 'timeout', value: null },
      { line: 2, command: 'tcp_stalled', code: 3, outcome: 'timeout', value: null },
      { line: 3, command: 'http_hang', code: 3, outcome: 'timeout', value: null },
    ])
    for (const line of run.lines) expect(line.ms, line.command).toBeGreaterThanOrEqual(590)
    // Their 600 ms, not the 30 s plugin or a kernel's connect timeout.
    expect(tookMs).toBeLessThan(5000)
    // Nothing of the checks outlives them: the group got SIGTERM, the connect and the request were destroyed.
    await waitFor(() => groupMembers(plugin).length === 0, 'the plugin’s process group to be gone', 2000)
    expect(connectingTo(listener.port)).toBe(0)
    await waitFor(() => http.open() === 0, 'the HTTP server to see its connection close', 2000)
    expect(http.arrivals).toHaveLength(1)
    expect(http.arrivals[0]!.closedAt).toBeDefined()
    // The worker that timed them out lives on.
    expect(childPids(gateway.cli.pid)).toEqual(gateway.workers)
    await stop(gateway)
  })
})

describe('an address outside targets', () => {
  it('is answered unknown (code 1) by every kind, with no connection at its listeners and no plugin spawned; inside, the same checks reach them', async () => {
    const [tcpIn, tcpOut] = await onEveryHost(['127.0.0.1', '127.0.0.2'], (host, port) => device(startTcpDevice(host, port)))
    const [httpIn, httpOut] = await onEveryHost(['127.0.0.1', '127.0.0.2'], (host, port) => device(startHttpDevice(() => ({ status: 200 }), host, port)))
    await writePlugin(files, 'marker.sh', ['# Touches marker-<address> in $1: proof that it was spawned.', 'touch "$1/marker-$2"', 'echo "OK - marked $2"'])
    const checks = await files.write('checks.toml', [
      'targets = ["127.0.0.1"]',
      '[check.tcp]',
      `tcp = ${tcpIn!.port}`,
      '[check.http]',
      `http = "http://{address}:${httpIn!.port}/"`,
      '[check.exec]',
      `exec = ["./marker.sh", "${files.dir}", "{address}"]`,
      // The address is inside, but the URL's host is not: refused as well.
      '[check.http_elsewhere]',
      `http = "http://127.0.0.2:${httpOut!.port}/?device={address}"`,
    ])
    const gateway = await server(checks)
    const run = await client(gateway.endpoint, [
      '127.0.0.2:tcp',
      '127.0.0.2:http',
      '127.0.0.2:exec',
      '127.0.0.1:http_elsewhere',
      '127.0.0.1:tcp',
      '127.0.0.1:http',
      '127.0.0.1:exec',
    ])
    expect(run.code).toBe(1)
    expect(countsAndStates(run.stdout)).toEqual([
      'commands  7 sent · 3 ok · 4 unknown · 0 failed · 0 timeout · 0 cancelled · 0 lost',
      'states    3 ok · 0 warning · 0 critical · 0 unknown',
    ])
    expect(run.lines.map(({ address, command, code, outcome, value }) => [address, command, code, outcome, value])).toEqual([
      ['127.0.0.2', 'tcp', 1, 'unknown', null],
      ['127.0.0.2', 'http', 1, 'unknown', null],
      ['127.0.0.2', 'exec', 1, 'unknown', null],
      ['127.0.0.1', 'http_elsewhere', 1, 'unknown', null],
      ['127.0.0.1', 'tcp', 0, 'ok', expect.objectContaining({ state: 0 })],
      ['127.0.0.1', 'http', 0, 'ok', expect.objectContaining({ state: 0, output: 'HTTP 200' })],
      ['127.0.0.1', 'exec', 0, 'ok', expect.objectContaining({ state: 0, output: 'OK - marked 127.0.0.1' })],
    ])
    // Outside: nothing reached 127.0.0.2 and no plugin ran for it. Inside: each device saw its check.
    expect([tcpOut!.arrivals.length, httpOut!.arrivals.length, existsSync(`${files.dir}/marker-127.0.0.2`)]).toEqual([0, 0, false])
    expect([tcpIn!.arrivals.length, httpIn!.arrivals.length, existsSync(`${files.dir}/marker-127.0.0.1`)]).toEqual([1, 1, true])
    await stop(gateway)
  })
})

const NAGIOS = '/usr/lib/nagios/plugins'
const nagiosPresent = ['check_tcp', 'check_http', 'check_dummy'].every((name) => existsSync(`${NAGIOS}/${name}`))
const nagiosMissing = `${NAGIOS}/check_tcp, check_http or check_dummy is absent: install Debian's monitoring-plugins-basic (.ci/run does)`

describe("Debian's Nagios plugins (monitoring-plugins-basic) as exec checks", () => {
  if (!nagiosPresent && process.env.CI !== undefined) {
    it('are installed on CI', () => {
      throw new Error(nagiosMissing)
    })
  }

  it.skipIf(!nagiosPresent)(`check_tcp, check_http and check_dummy give their states and perfdata${nagiosPresent ? '' : ` (skipped: ${nagiosMissing})`}`, async () => {
    const tcp = await device(startTcpDevice('127.0.0.1', 0, { hangUp: true }))
    const http = await device(startHttpDevice((path) => ({ status: path === '/health' ? 200 : 503 })))
    const closed = await freePort()
    const checks = await files.write('checks.toml', [
      'targets = ["127.0.0.1"]',
      '[check.pg]',
      `exec = ["${NAGIOS}/check_tcp", "-H", "{address}", "-p", "${tcp.port}"]`,
      '[check.pg_down]',
      `exec = ["${NAGIOS}/check_tcp", "-H", "{address}", "-p", "${closed}"]`,
      '[check.web]',
      `exec = ["${NAGIOS}/check_http", "-H", "{address}", "-p", "${http.port}", "-u", "/health"]`,
      '[check.dummy]',
      `exec = ["${NAGIOS}/check_dummy", "1", "text"]`,
    ])
    const gateway = await server(checks)
    const run = await client(gateway.endpoint, ['127.0.0.1:pg', '127.0.0.1:pg_down', '127.0.0.1:web', '127.0.0.1:dummy'])
    expect(run.code).toBe(0)
    expect(countsAndStates(run.stdout)).toEqual([
      'commands  4 sent · 4 ok · 0 unknown · 0 failed · 0 timeout · 0 cancelled · 0 lost',
      'states    2 ok · 1 warning · 1 critical · 0 unknown',
    ])
    const values = run.lines.map((line) => line.value as Value)
    expect(values[0]).toEqual({
      state: 0,
      output: expect.stringMatching(new RegExp(`^TCP OK - [\\d.]+ second response time on 127\\.0\\.0\\.1 port ${tcp.port}$`)),
      perfdata: expect.stringMatching(/^time=[\d.]+s;;;0\.000000;10\.000000$/),
      ms: expect.any(Number),
    })
    expect(values[1]).toEqual({ state: 2, output: `connect to address 127.0.0.1 and port ${closed}: Connection refused`, ms: expect.any(Number) })
    expect(values[2]).toEqual({
      state: 0,
      output: expect.stringMatching(/^HTTP OK: HTTP\/1\.1 200 OK - \d+ bytes in [\d.]+ second response time$/),
      perfdata: expect.stringMatching(/^time=[\d.]+s;;;[\d.]+;[\d.]+ size=\d+B;;;0;$/),
      ms: expect.any(Number),
    })
    expect(values[3]).toEqual({ state: 1, output: 'WARNING: text', ms: expect.any(Number) })
    expect([tcp.arrivals.length, http.arrivals.map((a) => a.path)]).toEqual([1, ['/health']])
    await stop(gateway)
  })
})
