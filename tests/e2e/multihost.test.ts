/**
 * Three hosts for real: the gateway, a remote worker and a client each in
 * its own network namespace, joined by veth pairs on a bridge, with private
 * addresses. Traffic has to cross real interfaces; their byte counters prove
 * it did. Creating namespaces needs root and iproute2: where that is not
 * possible the test is skipped, and says why.
 */
import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { expectAllGone, startCli, waitFor, type RunningCli } from '../helpers/processes.js'

const tag = `cgw${process.pid % 100000}`
const NS = { bridge: `${tag}-br`, gateway: `${tag}-gw`, worker: `${tag}-wk`, client: `${tag}-cl` }
const ADDRESS = { gateway: '10.77.0.1', worker: '10.77.0.2', client: '10.77.0.3' }

function ip(...args: string[]): { ok: boolean; out: string } {
  const result = spawnSync('ip', args, { encoding: 'utf8' })
  return { ok: result.status === 0, out: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}` }
}

/** Why namespaces cannot be used here, or undefined when they can. */
function namespacesUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces exist only on Linux'
  const probe = `${tag}-probe`
  const added = ip('netns', 'add', probe)
  if (!added.ok) return `cannot create a network namespace (needs root and iproute2): ${added.out.trim()}`
  ip('netns', 'del', probe)
  return undefined
}

const unavailable = namespacesUnavailable()
if (unavailable !== undefined) process.stderr.write(`multihost test skipped: ${unavailable}\n`)

function must(...args: string[]): void {
  const result = ip(...args)
  if (!result.ok) throw new Error(`ip ${args.join(' ')}: ${result.out}`)
}

function bytes(ns: string, direction: 'rx' | 'tx'): number {
  const result = spawnSync('ip', ['netns', 'exec', ns, 'cat', `/sys/class/net/eth0/statistics/${direction}_bytes`], { encoding: 'utf8' })
  return Number(result.stdout.trim())
}

describe.skipIf(unavailable !== undefined)('a gateway, a remote worker and a client on three hosts (network namespaces)', () => {
  let files: Fixtures
  const started: RunningCli[] = []

  beforeAll(async () => {
    files = await fixtures()
    for (const ns of Object.values(NS)) must('netns', 'add', ns)
    must('-n', NS.bridge, 'link', 'add', 'br0', 'type', 'bridge')
    must('-n', NS.bridge, 'link', 'set', 'br0', 'up')
    for (const host of ['gateway', 'worker', 'client'] as const) {
      const port = `v-${host.slice(0, 2)}`
      must('-n', NS.bridge, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS[host])
      must('-n', NS.bridge, 'link', 'set', port, 'master', 'br0', 'up')
      must('-n', NS[host], 'addr', 'add', `${ADDRESS[host]}/24`, 'dev', 'eth0')
      must('-n', NS[host], 'link', 'set', 'eth0', 'up')
      must('-n', NS[host], 'link', 'set', 'lo', 'up')
    }
  })

  afterAll(async () => {
    for (const { child } of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await expectAllGone(started.map((cli) => cli.pid), 5000)
    for (const ns of Object.values(NS)) ip('netns', 'del', ns)
    expect(ip('netns', 'list').out).not.toContain(tag)
    await files.remove()
  })

  it('serves the client across real interfaces, with results going straight from the worker host to the client host', async () => {
    const { commands, map } = await files.seed(512, 0.05)
    const gatewayArgs = [map, `tcp://${ADDRESS.gateway}:5557`, '-w', '0', '--workers-bind', `tcp://${ADDRESS.gateway}:5558`, '--log-level', 'info']
    const gateway = startCli('run-server', gatewayArgs, { netns: NS.gateway })
    started.push(gateway)
    await waitFor(() => gateway.stdout().includes('listening'), 'the gateway to listen in its namespace')
    const worker = startCli('run-worker', ['--gateway', `tcp://${ADDRESS.gateway}:5558`, '--map', map], { netns: NS.worker })
    started.push(worker)
    await waitFor(() => gateway.stderr().includes('worker ready'), 'the remote worker to join across the bridge')
    const before = { worker: bytes(NS.worker, 'tx'), client: bytes(NS.client, 'rx') }

    const client = startCli('run-client', [commands, '16', `tcp://${ADDRESS.client}:5556`, `tcp://${ADDRESS.gateway}:5557`], { netns: NS.client })
    started.push(client)
    expect((await client.exited).code).toBe(0)
    expect(client.stdout()).toContain('total     512')

    // The 32 results (over 100 bytes each) left the worker host and reached the client
    // host through their eth0: each namespace's only route to the others.
    expect(bytes(NS.worker, 'tx') - before.worker).toBeGreaterThan(3200)
    expect(bytes(NS.client, 'rx') - before.client).toBeGreaterThan(3200)

    gateway.child.kill('SIGINT')
    expect((await gateway.exited).code).toBe(0)
    expect((await worker.exited).code).toBe(0) // the poison pill reached it across the bridge
  })
})
