/**
 * `--http` on the command line, as an operator uses it: run-worker prints
 * where its `/metrics` is and serves it while it works; run-server serves
 * its own; a bad value or an address in use exits 2 naming it, before the
 * worker joins its gateway.
 */
import { createServer, type Server } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { expectAllGone, freePort, runCli, startCli, waitFor, type RunningCli } from '../helpers/processes.js'
import { scrape } from '../helpers/prometheus.js'

let files: Fixtures
const clis: RunningCli[] = []
const servers: Server[] = []

beforeEach(async () => {
  files = await fixtures()
})

afterEach(async () => {
  for (const cli of clis) if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL')
  await expectAllGone(clis.splice(0).map((cli) => cli.pid))
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
  await files.remove()
})

function start(name: Parameters<typeof startCli>[0], args: string[]): RunningCli {
  const cli = startCli(name, args)
  clis.push(cli)
  return cli
}

/** The gateway's HTTP URL, from its `gateway listening` log line. */
function httpOf(server: RunningCli): string | undefined {
  const line = server.stderr().split('\n').find((l) => l.includes('"gateway listening"'))
  return line === undefined ? undefined : (JSON.parse(line) as { http?: string }).http
}

describe('run-worker --http and run-server --http', () => {
  it("serve /metrics: the worker's counts what it ran for a known run, the gateway's what it saw", async () => {
    const { commands, map } = await files.seed(512, 0)
    const port = await freePort()
    const server = start('run-server', [map, 'tcp://127.0.0.1:*', '-w', '0', '--workers-bind', `tcp://127.0.0.1:${port}`, '--http', '0', '--log-level', 'info'])
    await waitFor(() => /listening (\S+)/.test(server.stdout()) && httpOf(server) !== undefined, 'run-server to listen')
    const endpoint = /listening (\S+)/.exec(server.stdout())![1]!
    const worker = start('run-worker', ['--gateway', `tcp://127.0.0.1:${port}`, '--map', map, '--http', '127.0.0.1:0'])
    await waitFor(() => /^metrics (\S+)$/m.test(worker.stdout()), 'run-worker to print its metrics URL')
    const url = /^metrics (\S+)$/m.exec(worker.stdout())![1]!
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    await waitFor(() => server.stderr().includes('worker ready'), 'the worker to join')

    const client = await runCli('run-client', [commands, '16', '-b', 'tcp://127.0.0.1:*', '-s', endpoint])
    expect(client.code).toBe(0)
    expect(client.stdout).toContain('total     512')
    await waitFor(async () => (await scrape(`${httpOf(server)}/metrics`)).value('cgw_batches_done_total') === 32, 'the gateway to count 32 batches done')

    const w = await scrape(url)
    expect(w.value('cgw_worker_batches_total')).toBe(32)
    expect(w.value('cgw_commands_total', { outcome: 'ok' })).toBe(512)
    expect(w.value('cgw_commands_total', { outcome: 'failed' })).toBe(0)
    expect(w.histogram('cgw_batch_duration_seconds').count).toBe(32)
    expect(w.value('cgw_worker_in_flight_batches')).toBe(0)
    expect(w.value('process_resident_memory_bytes')).toBeGreaterThan(0)

    const g = await scrape(`${httpOf(server)}/metrics`)
    expect([g.value('cgw_commands_received_total'), g.value('cgw_commands_total', { outcome: 'ok' })]).toEqual([512, 512])
    expect(g.value('cgw_workers', { kind: 'remote', state: 'idle' })).toBe(1)

    worker.child.kill('SIGINT')
    expect((await worker.exited).code).toBe(0)
    // The listener went with it.
    await expect(fetch(url)).rejects.toThrow()
  })
})

describe('run-worker with an --http it cannot use', () => {
  it.each(['nonsense', '127.0.0.1:99999', 'host:port'])('exits 2 on --http %s, naming the value', async (value) => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    const { code, stderr } = await runCli('run-worker', ['--gateway', 'tcp://127.0.0.1:9', '--map', map, '--http', value])
    expect(code).toBe(2)
    expect(stderr).toContain(value)
  })

  it('exits 2 when the port is in use, naming the address, without joining the gateway', async () => {
    const taken = createServer()
    servers.push(taken)
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    const worker = start('run-worker', ['--gateway', 'tcp://127.0.0.1:9', '--map', map, '--http', `127.0.0.1:${port}`])
    const { code } = await worker.exited
    expect(code).toBe(2)
    expect(worker.stderr()).toContain(`run-worker: cannot listen for HTTP on 127.0.0.1:${port}`)
    expect(worker.stderr()).not.toContain('worker started')
    expect(worker.stdout()).toBe('')
  })
})
