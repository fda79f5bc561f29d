/**
 * gateway-keygen as an operator runs it: two files with the right modes, the
 * paths and the key on stdout, exit 2 and nothing touched when a certificate
 * is already there, and help with examples.
 */
import { spawn } from 'node:child_process'
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readCertificate, readSecretCertificate } from '../../src/security/certificates.js'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { ROOT, expectAllGone } from '../helpers/processes.js'

let files: Fixtures
const pids: number[] = []
beforeEach(async () => {
  files = await fixtures()
})
afterEach(async () => {
  await expectAllGone(pids.splice(0))
  await files.remove()
})

async function keygen(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [`${ROOT}bin/gateway-keygen.js`, ...args], { cwd: files.dir, stdio: ['ignore', 'pipe', 'pipe'] })
  pids.push(child.pid!)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  return { code, stdout, stderr }
}

const mode = async (file: string): Promise<number> => (await stat(file)).mode & 0o777

describe('gateway-keygen DIR NAME', () => {
  it('writes NAME.key (0644) and NAME.key_secret (0600) and prints both paths and the public key', async () => {
    const { code, stdout, stderr } = await keygen('certs', 'gateway')
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    const lines = stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toBe('public  certs/gateway.key')
    expect(lines[1]).toBe('secret  certs/gateway.key_secret')
    const key = /^key {5}(\S{40})$/.exec(lines[2]!)?.[1]
    expect(key).toBeDefined()

    const dir = join(files.dir, 'certs')
    expect(await mode(join(dir, 'gateway.key'))).toBe(0o644)
    expect(await mode(join(dir, 'gateway.key_secret'))).toBe(0o600)
    expect(await readCertificate(join(dir, 'gateway.key'))).toMatchObject({ publicKey: key })
    expect(await readSecretCertificate(join(dir, 'gateway.key_secret'))).toMatchObject({ publicKey: key })
  })

  it('shows control characters of DIR as escapes on stdout, and on stderr when it refuses', async () => {
    const dir = 'a\x1b[2Jb'
    const written = await keygen(dir, 'k')
    expect(written.code).toBe(0)
    expect(written.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/)
    expect(written.stdout).toContain('public  a\\x1b[2Jb/k.key')
    const refused = await keygen(dir, 'k')
    expect(refused.code).toBe(2)
    expect(refused.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/)
    expect(refused.stderr).toContain('\\x1b[2J')
  })

  it('exits 2 when the certificate exists, names the file, prints nothing on stdout and changes nothing', async () => {
    expect((await keygen('.', 'client')).code).toBe(0)
    const before = await Promise.all(['client.key', 'client.key_secret'].map((name) => readFile(join(files.dir, name), 'utf8')))
    const { code, stdout, stderr } = await keygen('.', 'client')
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toBe('gateway-keygen: client.key_secret already exists: a certificate is never overwritten\n')
    const after = await Promise.all(['client.key', 'client.key_secret'].map((name) => readFile(join(files.dir, name), 'utf8')))
    expect(after).toEqual(before)
  })

  it('exits 2 on a NAME that would leave DIR, and writes nothing', async () => {
    const { code, stdout, stderr } = await keygen('certs', '../outside')
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toContain('certificate name "../outside" must be 1–128 characters of [A-Za-z0-9_.-]')
    expect(await readdir(files.dir)).toEqual([])
  })

  it('exits 2 with commander\'s message when NAME is missing', async () => {
    const { code, stderr } = await keygen('certs')
    expect(code).toBe(2)
    expect(stderr).toContain("missing required argument 'name'")
    expect(await readdir(files.dir)).toEqual([])
  })

  it('--help shows the usage, examples for each role and the exit codes', async () => {
    const { code, stdout } = await keygen('--help')
    expect(code).toBe(0)
    const text = stdout.replace(/\s+/g, ' ')
    expect(text).toContain('Usage: gateway-keygen [options] <dir> <name>')
    expect(text).toContain('$ gateway-keygen /etc/cgw gateway')
    expect(text).toContain('--curve-secret /etc/cgw/gateway.key_secret --clients-allow /etc/cgw/clients')
    expect(text).toContain('It never overwrites')
    expect(text).toContain('Exit codes: 0 written · 2 nothing written')
  })
})
