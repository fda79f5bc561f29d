/**
 * CURVE on the command line of the connecting programs: run-client,
 * run-worker and gateway-status with --curve-secret and --server-key (and
 * run-client's --workers-allow), from flags, CGW_ variables and a config
 * file, against a raw CURVE gateway and a raw CURVE status REP played by
 * the test. Usage errors exit 2 with one line naming the flag and the file.
 * Every test proves its processes are gone.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Reply } from 'zeromq'
import { certificates, curveServer, rawGateway, type TestCertificate } from '../helpers/curve-peers.js'
import { trackedClis } from '../helpers/cli-session.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { decodeMessage, enc } from '../helpers/independent-cgp.js'
import { waitFor } from '../helpers/processes.js'

const NAMES = ['gateway', 'client', 'worker', 'rogue', 'admin'] as const

let files: Fixtures
let certs: Record<(typeof NAMES)[number], TestCertificate>
const clis = trackedClis('SIGKILL')
const { start, run } = clis
let closables: { close(): void }[] = []

beforeEach(async () => {
  files = await fixtures()
  certs = await certificates(files.dir, NAMES)
})

afterEach(async () => {
  await clis.stopAll()
  for (const closable of closables.splice(0).reverse()) closable.close()
  await files.remove()
})

function track<T extends { close(): void }>(closable: T): T {
  closables.push(closable)
  return closable
}

/** Exit 2, nothing on stdout, one line on stderr; returns it. */
function usageLine(result: { code: number | null; stdout: string; stderr: string }): string {
  expect(result.code).toBe(2)
  expect(result.stdout).toBe('')
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  return lines[0]!
}

async function allowList(members: readonly TestCertificate[]): Promise<string> {
  const dir = join(files.dir, `allow-${members.map((m) => m.publicFile.split('/').pop()).join('-')}`)
  await mkdir(dir)
  for (const member of members) await copyFile(member.publicFile, join(dir, member.publicFile.split('/').pop()!))
  return dir
}

describe('run-client, run-worker and gateway-status over CURVE', () => {
  it('run-client and run-worker with their certificates: every result comes back, only from the listed worker', async () => {
    const { commands, map } = await files.seed(32, 0)
    const gw = await rawGateway(certs.gateway, track, { clients: [certs.client.publicKey], workers: [certs.worker.publicKey] })
    const worker = start('run-worker', ['-g', gw.workerPort.endpoint, '--map', map, '--curve-secret', certs.worker.secretFile, '--server-key', certs.gateway.publicFile, '--heartbeat', '200'])
    await waitFor(() => gw.fromWorkers.some((h) => h.type === 'ready'), 'run-worker to say ready over CURVE')
    const client = start('run-client', [
      commands,
      '-n', '8',
      '-b', 'tcp://127.0.0.1:*',
      '-s', gw.intake.endpoint,
      '--curve-secret', certs.client.secretFile,
      '--server-key', certs.gateway.publicFile,
      '--workers-allow', await allowList([certs.worker]),
      '--json',
    ])
    const { code } = await client.exited
    expect(client.stderr()).toBe('')
    expect(code).toBe(0)
    const summary = JSON.parse(client.stdout()) as { counts: { ok: number }; total: number; workersRefused: number }
    expect(summary).toMatchObject({ counts: { ok: 32 }, total: 32, workersRefused: 0 })
    expect(gw.tasks.map((t) => t.replyKey)).toEqual(Array(4).fill(certs.client.publicKey))
    // Key files and public keys may be logged; the secret never is.
    expect(worker.stderr()).toContain(certs.worker.publicKey)
    expect(worker.stderr()).not.toContain(certs.worker.secretKey)
    worker.child.kill('SIGTERM')
    expect((await worker.exited).code).toBe(0)
  })

  it('run-client from CGW_ variables and a config file: a worker not in --workers-allow is refused, the batches are lost, exit 1', async () => {
    const { commands, map } = await files.seed(4, 0)
    const gw = await rawGateway(certs.gateway, track, { workers: [certs.rogue.publicKey] })
    const env = { CGW_CURVE_SECRET: certs.rogue.secretFile, CGW_SERVER_KEY: certs.gateway.publicFile }
    const worker = start('run-worker', ['-g', gw.workerPort.endpoint, '--map', map, '--log-level', 'error'], env)
    await waitFor(() => gw.fromWorkers.some((h) => h.type === 'ready'), 'the rogue worker to say ready')
    const config = join(files.dir, 'client.toml')
    await writeFile(config, `server-key = "${certs.gateway.publicFile}"\nworkers-allow = "${await allowList([certs.worker])}"\n`)
    const client = start('run-client', [commands, '-n', '4', '-b', 'tcp://127.0.0.1:*', '-s', gw.intake.endpoint, '--result-timeout', '2000', '--max-resends', '0', '--config', config], {
      CGW_CURVE_SECRET: certs.client.secretFile,
    })
    const { code } = await client.exited
    expect(code).toBe(1)
    expect(client.stdout()).toMatch(/^commands {2}4 sent · 0 ok .* 4 lost$/m)
    expect(client.stdout()).toMatch(/^refused {3}[1-9][0-9]* worker connections? whose key is not in --workers-allow/m)
    expect(client.stderr()).toContain(`"publicKey":"${certs.rogue.publicKey}"`)
    expect(client.stderr()).toContain('worker refused on the results socket')
    worker.child.kill('SIGTERM')
    expect((await worker.exited).code).toBe(0)
  })

  describe('gateway-status', () => {
    async function statusServer() {
      const server = await curveServer((o) => new Reply(o), certs.gateway, track, [certs.admin.publicKey])
      void (async () => {
        for await (const [frame] of server.socket) {
          const ok = decodeMessage([frame!]).header?.type === 'status'
          await server.socket.send(enc(ok ? { v: 1, type: 'status', uptimeMs: 1500, endpoint: 'tcp://gw:5557', workersEndpoint: 'ipc:///x' } : { v: 1, type: 'error', reason: '?' }))
        }
      })().catch(() => undefined)
      return server
    }

    it('answers with the admin certificate, and says the key was refused with another (exit 1)', async () => {
      const server = await statusServer()
      const ok = await run('gateway-status', [server.endpoint, '--curve-secret', certs.admin.secretFile, '--server-key', certs.gateway.publicFile, '--json'])
      expect(ok.code).toBe(0)
      expect(JSON.parse(ok.stdout)).toMatchObject({ uptimeMs: 1500, endpoint: 'tcp://gw:5557' })
      const refused = await run('gateway-status', [server.endpoint, '--timeout', '8000'], { CGW_CURVE_SECRET: certs.rogue.secretFile, CGW_SERVER_KEY: certs.gateway.publicFile })
      expect(refused.code).toBe(1)
      expect(refused.stderr.trim()).toBe(
        `gateway-status: status of ${server.endpoint}: the gateway refused this key, ${certs.rogue.publicKey} (ZAP status 400): is its NAME.key in the gateway's --admins-allow?`,
      )
      const plaintext = await run('gateway-status', [server.endpoint, '--timeout', '500'])
      expect(plaintext.code).toBe(1)
      expect(plaintext.stderr).toContain('no answer within 500 ms')
    })
  })
})

describe('usage errors name the flag and the file, and exit 2 before anything connects', () => {
  const CLIENT_BASE = ['cmds.txt', '-b', 'tcp://127.0.0.1:*', '-s', 'tcp://127.0.0.1:1']

  it.each<[string, () => string[], RegExp]>([
    ['--curve-secret without --server-key', () => ['--curve-secret', certs.client.secretFile], /^run-client: --curve-secret \S+client\.key_secret needs --server-key: the gateway's public certificate \(NAME\.key\)$/],
    ['--server-key without --curve-secret', () => ['--server-key', certs.gateway.publicFile], /^run-client: --server-key needs --curve-secret/],
    [
      'three --server-key for two --server',
      () => ['-s', 'tcp://127.0.0.1:2', '--curve-secret', certs.client.secretFile, '--server-key', certs.gateway.publicFile, '--server-key', certs.gateway.publicFile, '--server-key', certs.gateway.publicFile],
      /^run-client: --server-key names 3 certificates for 2 servers: give one for all of them, or one per --server in the same order$/,
    ],
    ['a public .key as --curve-secret', () => ['--curve-secret', certs.client.publicFile, '--server-key', certs.gateway.publicFile], /^run-client: --curve-secret: certificate \S+client\.key has no secret-key: give this process's NAME\.key_secret, not a public NAME\.key$/],
    ['--workers-allow without --curve-secret', () => ['--workers-allow', files.dir], /^run-client: --workers-allow \S+ needs --curve-secret/],
  ])('run-client: %s', async (_what, args, message) => {
    await files.write('cmds.txt', ['10.0.0.1:foo'])
    expect(usageLine(await run('run-client', [...CLIENT_BASE, ...args()]))).toMatch(message)
  })

  it('run-client: a --server-key that is not a certificate, and a --workers-allow that is not a directory', async () => {
    await files.write('cmds.txt', ['10.0.0.1:foo'])
    const notes = await files.write('notes.txt', ['hello'])
    expect(usageLine(await run('run-client', [...CLIENT_BASE, '--curve-secret', certs.client.secretFile, '--server-key', notes]))).toBe(
      `run-client: --server-key: certificate ${notes}: no public-key line (expected ZeroMQ's certificate format, as gateway-keygen or pyzmq write it)`,
    )
    const missing = join(files.dir, 'no-such-dir')
    const line = usageLine(await run('run-client', [...CLIENT_BASE, '--curve-secret', certs.client.secretFile, '--server-key', certs.gateway.publicFile, '--workers-allow', missing]))
    expect(line).toMatch(new RegExp(`^run-client: --workers-allow: allow-list ${missing} cannot be read: ENOENT`))
  })

  it.each<[string, () => string[], RegExp]>([
    ['--curve-secret without --server-key', () => ['--curve-secret', certs.worker.secretFile], /^run-worker: --curve-secret \S+worker\.key_secret needs --server-key/],
    ['--server-key without --curve-secret', () => ['--server-key', certs.gateway.publicFile], /^run-worker: --server-key needs --curve-secret/],
    ['a public .key as --curve-secret', () => ['--curve-secret', certs.worker.publicFile, '--server-key', certs.gateway.publicFile], /^run-worker: --curve-secret: certificate \S+worker\.key has no secret-key/],
    ['a missing --server-key file', () => ['--curve-secret', certs.worker.secretFile, '--server-key', join(files.dir, 'gone.key')], /^run-worker: --server-key: certificate \S+gone\.key cannot be read: ENOENT/],
  ])('run-worker: %s', async (_what, args, message) => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:1:0'])
    expect(usageLine(await run('run-worker', ['-g', 'tcp://127.0.0.1:1', '--map', map, '--log-level', 'error', ...args()]))).toMatch(message)
  })

  it.each<[string, () => string[], RegExp]>([
    ['--curve-secret without --server-key', () => ['--curve-secret', certs.admin.secretFile], /^gateway-status: --curve-secret \S+admin\.key_secret needs --server-key/],
    ['a secret certificate that is not one', () => ['--curve-secret', certs.admin.publicFile, '--server-key', certs.gateway.publicFile], /^gateway-status: --curve-secret: certificate \S+admin\.key has no secret-key/],
  ])('gateway-status: %s', async (_what, args, message) => {
    expect(usageLine(await run('gateway-status', ['tcp://127.0.0.1:1', ...args()]))).toMatch(message)
  })
})
