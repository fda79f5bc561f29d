/**
 * Ctrl+C on run-client while real 30 s plugins run (issue 11, "a Ctrl+C that
 * cancels a running 30 s plugin within --abort-grace"): run-client sends
 * `abort`, the gateway sends `cancel` to the worker, the worker SIGTERMs each
 * plugin's process group and answers code 4, and run-client prints its
 * partial summary and exits 130 well within the grace. The gateway and its
 * worker stay up and serve the next client; then everything stops and no
 * process is left.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { killGroups, linesOf, resultLines, startChecksServer, startTcpDevice, writePlugin, type Device } from '../helpers/check-devices.js'
import { childPids, expectAllGone, groupMembers, isAlive, startCli, waitFor, type RunningCli } from '../helpers/processes.js'

let files: Fixtures
let clis: RunningCli[]
let pids: number[]
/** Plugins' process-group leaders the test saw start. */
let groups: number[]
let devices: Device[]

beforeEach(async () => {
  files = await fixtures()
  clis = []
  pids = []
  groups = []
  devices = []
})

afterEach(async () => {
  const pluginsLeft = killGroups(groups)
  for (const cli of clis) if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL')
  await expectAllGone([...pids, ...clis.map((cli) => cli.pid)], 5000)
  await waitFor(() => childPids(process.pid).length === 0, 'every child process of the test to be gone', 5000)
  await Promise.all(devices.map((device) => device.close()))
  await files.remove()
  expect(pluginsLeft, 'plugin processes left behind').toEqual([])
})

describe('run-client Ctrl+C while 30 s plugins run on run-server --checks', () => {
  it('exits 130 within --abort-grace with every command cancelled, SIGTERM ends each plugin’s group, and the gateway serves the next client', async () => {
    const started = `${files.dir}/started.txt`
    const terminated = `${files.dir}/terminated.txt`
    await writePlugin(files, 'sleeper.sh', [
      '# Logs its pid (its process group) in $1, then sleeps 30 s; logs it in $2 when SIGTERM comes.',
      '# The sleep shares the group, so the same SIGTERM ends it and the trap runs at once.',
      `trap 'echo $$ >> "$2"; exit 143' TERM`,
      'echo $$ >> "$1"',
      'sleep 30',
      'echo "OK - slept"',
    ])
    const listener = await startTcpDevice()
    devices.push(listener)
    const checks = await files.write('checks.toml', [
      'targets = ["127.0.0.0/8"]',
      '[check.slow]',
      `exec = ["./sleeper.sh", "${started}", "${terminated}"]`,
      'timeout = "1m"',
      'per_target = 4',
      '[check.ssh]',
      `tcp = ${listener.port}`,
    ])
    const gateway = await startChecksServer(checks, 1)
    clis.push(gateway.cli)
    pids.push(...gateway.workers)
    const [worker] = gateway.workers

    // 6 commands in 3 batches, all held by the one worker: 4 plugins run (per_target), 2 wait their turn.
    const commands = await files.write('slow.txt', Array.from({ length: 6 }, () => '127.0.0.1:slow'))
    const graceMs = 3000
    const output = `${files.dir}/slow.jsonl`
    const client = startCli('run-client', [commands, '-n', '2', '-b', 'tcp://127.0.0.1:*', '-s', gateway.endpoint, '--abort-grace', String(graceMs), '--json', '--output', output])
    clis.push(client)
    await waitFor(() => linesOf(started).length === 4, 'four plugins to be running')
    const plugins = linesOf(started).map(Number)
    pids.push(...plugins)
    groups.push(...plugins)
    for (const plugin of plugins) expect(groupMembers(plugin), 'the plugin and its sleep').toHaveLength(2)

    const interruptedAt = performance.now()
    client.child.kill('SIGINT')
    const exited = await client.exited
    const tookMs = performance.now() - interruptedAt
    expect(exited).toEqual({ code: 130, signal: null })
    // Every result came back cancelled, so the client did not wait out its grace; far from the plugins' 30 s.
    expect(tookMs).toBeLessThan(graceMs)
    const summary = JSON.parse(client.stdout()) as { interrupted: boolean; exitCode: number; commands: number; counts: Record<string, number> }
    expect(summary).toMatchObject({ interrupted: true, exitCode: 130, commands: 6 })
    expect(summary.counts).toEqual({ ok: 0, unknown: 0, failed: 0, timeout: 0, cancelled: 6, lost: 0 })
    expect((await resultLines(output)).map((line) => [line.code, line.outcome, line.value])).toEqual(Array.from({ length: 6 }, () => [4, 'cancelled', null]))

    // SIGTERM reached each running plugin's group: each logged it, and no process of the groups is left.
    await waitFor(() => plugins.every((plugin) => groupMembers(plugin).length === 0), 'the plugins’ process groups to be gone', 2000)
    expect(linesOf(terminated).map(Number).sort()).toEqual([...plugins].sort())
    // The two that waited their turn never started.
    expect(linesOf(started)).toHaveLength(4)

    // The gateway and the same worker are up, and serve another client.
    expect([isAlive(gateway.cli.pid), childPids(gateway.cli.pid)]).toEqual([true, [worker]])
    const next = startCli('run-client', [await files.write('ssh.txt', ['127.0.0.1:ssh', '127.0.0.2:ssh']), '-b', 'tcp://127.0.0.1:*', '-s', gateway.endpoint])
    clis.push(next)
    expect((await next.exited).code, next.stderr()).toBe(0)
    expect(next.stdout()).toContain('states    1 ok · 0 warning · 1 critical · 0 unknown')
    expect(listener.arrivals).toHaveLength(1)

    // Finally Ctrl+C to the gateway: exit 0 at once (its worker holds nothing), and nothing is left.
    const stopping = performance.now()
    gateway.cli.child.kill('SIGINT')
    expect((await gateway.cli.exited).code).toBe(0)
    expect(performance.now() - stopping).toBeLessThan(5000)
    await expectAllGone([gateway.cli.pid, worker!, client.pid, next.pid, ...plugins])
    expect(plugins.flatMap(groupMembers)).toEqual([])
  })
})
