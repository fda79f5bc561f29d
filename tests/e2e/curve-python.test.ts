/**
 * A Python client and a Python worker written from protocol.md alone
 * (tests/fixtures/python/cgp_client.py and cgp_worker.py, pyzmq + msgpack)
 * against run-server, the way the held-out clients and workers are run:
 * first in plaintext, then over CURVE with certificates made by pyzmq, the
 * Python worker connecting to the Python client's results PULL with the task's
 * replyKey, and forked workers presenting the gateway's key.
 *
 * The CURVE cases need run-server's --curve-secret, --clients-allow and
 * --workers-allow (issue 12, the gateway side). Until those are merged they
 * are skipped, and say so; `run-server --help` decides.
 */
import { spawn } from 'node:child_process'
import { chmod, copyFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { ROOT, childPids, expectAllGone, freePort, startCli, waitFor, type RunningCli } from '../helpers/processes.js'

const PYTHON = '/usr/bin/python3'
const PY = `${ROOT}tests/fixtures/python`


interface Python {
  readonly pid: number
  stdout(): string
  stderr(): string
  readonly exited: Promise<number | null>
}

let files: Fixtures
let servers: RunningCli[] = []
let pids: number[] = []

beforeEach(async () => {
  files = await fixtures()
  servers = []
  pids = []
})

afterEach(async () => {
  const forked = servers.flatMap((server) => childPids(server.pid))
  for (const server of servers) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL')
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  await expectAllGone([...servers.map((server) => server.pid), ...forked, ...pids], 10_000)
  await files.remove()
})

function python(script: string, args: string[]): Python {
  const child = spawn(PYTHON, [`${PY}/${script}`, ...args], { cwd: files.dir, stdio: ['ignore', 'pipe', 'pipe'] })
  pids.push(child.pid!)
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
  return { pid: child.pid!, stdout: () => out, stderr: () => err, exited }
}

/** Starts run-server and returns its intake endpoint. */
async function gateway(args: string[]): Promise<{ server: RunningCli; intake: string }> {
  const server = startCli('run-server', ['-b', 'tcp://127.0.0.1:*', '--log-level', 'warn', ...args], { cwd: files.dir })
  servers.push(server)
  await waitFor(() => server.stdout().includes('listening ') || server.child.exitCode !== null, 'run-server to listen')
  const intake = /listening (\S+)/.exec(server.stdout())?.[1]
  expect(intake, server.stderr()).toBeDefined()
  return { server, intake: intake! }
}

/** Stops run-server as Ctrl+C does and expects a clean exit. */
async function stop(server: RunningCli): Promise<void> {
  server.child.kill('SIGINT')
  expect((await server.exited).code, server.stderr()).toBe(0)
}

interface ClientOutcome {
  header?: { type: string; id: string; client: string; worker: string; attempt: number }
  body?: Array<[number, unknown]>
  total?: number
  rejected?: unknown
  error?: string
}

async function runClient(args: string[]): Promise<ClientOutcome> {
  const client = python('cgp_client.py', args)
  const code = await client.exited
  const outcome = JSON.parse(client.stdout().trim().split('\n').at(-1) ?? '{}') as ClientOutcome
  expect({ code, outcome, stderr: client.stderr() }).toMatchObject({ code: 0 })
  return outcome
}

/**
 * Certificates made by pyzmq's zmq.auth.create_certificates, laid out as an
 * operator would: keys/NAME.key_secret (chmod 600) and keys/NAME.key, and the
 * allow-list directories holding copies of the public ones.
 */
async function pyzmqCertificates(lists: Record<string, string[]>): Promise<void> {
  await mkdir(join(files.dir, 'keys'))
  const names = new Set(Object.values(lists).flat().concat('gateway'))
  for (const name of names) {
    const made = python('curve_peer.py', ['create', 'keys', name])
    expect(await made.exited, made.stderr()).toBe(0)
    await chmod(join(files.dir, 'keys', `${name}.key_secret`), 0o600)
  }
  for (const [dir, members] of Object.entries(lists)) {
    await mkdir(join(files.dir, dir))
    for (const name of members) await copyFile(join(files.dir, 'keys', `${name}.key`), join(files.dir, dir, `${name}.key`))
  }
}

describe('a Python client and a Python worker written from protocol.md', () => {
  it('in plaintext: the Python worker serves the Python client through run-server -w 0', async () => {
    const workerPort = `tcp://127.0.0.1:${await freePort()}`
    const { server, intake } = await gateway(['-w', '0', '--workers-bind', workerPort])
    const worker = python('cgp_worker.py', [workerPort, '--id', 'py-worker'])
    const outcome = await runClient([intake, '10.0.0.1:foo', '10.0.0.22:bar'])
    expect(outcome.header).toMatchObject({ type: 'result', id: '1', worker: 'py-worker', attempt: 1 })
    expect(outcome.body).toEqual([
      [0, 11],
      [0, 12],
    ])
    expect(outcome.total).toBe(23)
    await stop(server)
    expect(await worker.exited, worker.stderr()).toBe(0) // stop, then bye
  })

  it('over CURVE with pyzmq certificates: allow-listed client and worker, results over CURVE with replyKey, only from allowed workers', async () => {
    await pyzmqCertificates({ clients: ['client'], workers: ['worker'], 'client-workers': ['worker'] })
    const workerPort = `tcp://127.0.0.1:${await freePort()}`
    const { server, intake } = await gateway([
      '-w', '0', '--workers-bind', workerPort,
      '--curve-secret', 'keys/gateway.key_secret', '--clients-allow', 'clients', '--workers-allow', 'workers',
    ])
    const worker = python('cgp_worker.py', [workerPort, '--id', 'py-worker', '--curve-secret', 'keys/worker.key_secret', '--server-key', 'keys/gateway.key'])
    const outcome = await runClient([
      intake, '10.0.0.1:foo', '10.0.0.22:bar', '10.0.0.3:baz',
      '--curve-secret', 'keys/client.key_secret', '--server-key', 'keys/gateway.key', '--workers-allow', 'client-workers',
    ])
    expect(outcome.header).toMatchObject({ type: 'result', id: '1', worker: 'py-worker', attempt: 1 })
    expect(outcome.body).toEqual([
      [0, 11],
      [0, 12],
      [0, 11],
    ])
    expect(outcome.total).toBe(34)
    await stop(server)
    expect(await worker.exited, worker.stderr()).toBe(0)
  })

  it("over CURVE with forked workers: they present the gateway's key to a client that allows only that key", async () => {
    await pyzmqCertificates({ clients: ['client'], 'client-workers': ['gateway'] })
    const map = await files.write('map.txt', ['10.0.0.1:foo:5:0', '10.0.0.2:bar:7:0'])
    const { server, intake } = await gateway([map, '-w', '1', '--curve-secret', 'keys/gateway.key_secret', '--clients-allow', 'clients'])
    const outcome = await runClient([
      intake, '10.0.0.1:foo', '10.0.0.2:bar',
      '--curve-secret', 'keys/client.key_secret', '--server-key', 'keys/gateway.key', '--workers-allow', 'client-workers',
    ])
    expect(outcome.header).toMatchObject({ type: 'result', id: '1' })
    expect(outcome.body).toEqual([
      [0, 5],
      [0, 7],
    ])
    await stop(server)
  })
})
