/**
 * `npm run demo:checks` end to end: its script builds, then runs
 * dist/cli/demo-checks.js, which this test runs as the script does (the
 * suite has built already; a build inside a test would rewrite dist/ under
 * the other tests). The demo exits 0, prints every command's outcome and the
 * summary with its states line, and leaves nothing running: no process it
 * started, and its fixed ports 15622 and 15680 free again. Those ports are
 * fixed, so nothing else may run the demo at the same time (vitest runs the
 * files of this suite one after another).
 */
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { ROOT, childPids, expectAllGone } from '../helpers/processes.js'

/** Every descendant of `pid` now, from /proc. */
function descendants(pid: number): number[] {
  const found: number[] = []
  for (const child of childPids(pid)) found.push(child, ...descendants(child))
  return found
}

/** Live processes started from this checkout (cwd is the repository) that run one of its CLIs or workers. */
function ourProcesses(): string[] {
  const found: string[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      if (`${readlinkSync(`/proc/${entry}/cwd`)}/` !== ROOT) continue
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ')
      if (/bin\/run-(server|client|worker)\.js|dist\/cli\/demo-checks\.js|worker\/main\.js|worker-main\.js|plugins\/check_threshold/.test(cmdline)) found.push(`${entry} ${cmdline}`)
    } catch {
      // gone, or not ours to read
    }
  }
  return found
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ host: '127.0.0.1', port }, () => server.close(() => resolve(true)))
  })
}

describe('npm run demo:checks', () => {
  it('is the build, then dist/cli/demo-checks.js', () => {
    const scripts = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts
    expect(scripts['demo:checks']).toBe('npm run build && node dist/cli/demo-checks.js')
  })

  it('exits 0 with the outcome of each command and the states line, and leaves nothing running', async () => {
    expect(ourProcesses()).toEqual([])
    const demo = spawn(process.execPath, ['dist/cli/demo-checks.js'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    demo.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    demo.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    // Every process the demo starts (run-server, its workers, run-client, the plugins), sampled while it runs.
    const seen = new Set<number>()
    const sample = setInterval(() => descendants(demo.pid!).forEach((pid) => seen.add(pid)), 10)
    const code = await new Promise<number | null>((resolve) => demo.once('close', (exitCode) => resolve(exitCode)))
    clearInterval(sample)

    expect(code, `${stdout}\n${stderr}`).toBe(0)
    const lines = stdout.split('\n')
    expect(lines).toContain('states    3 ok · 1 warning · 3 critical · 0 unknown')
    expect(lines).toContain('commands  9 sent · 7 ok · 2 unknown · 0 failed · 0 timeout · 0 cancelled · 0 lost')
    const outcomes = lines.filter((line) => line.startsWith('  ')).map((line) => line.trim().split(/\s+/).slice(0, 2).join(' '))
    expect(outcomes).toEqual([
      '127.0.0.1:ssh OK',
      '127.0.0.1:telnet CRITICAL',
      '127.0.0.1:health OK',
      '127.0.0.1:broken CRITICAL',
      '127.0.0.1:disk OK',
      '127.0.0.1:queue WARNING',
      '127.0.0.2:ssh CRITICAL',
      '127.0.0.1:nosuchcheck unknown',
      'router.dc9.example:ssh unknown',
    ])
    expect(lines).toContain('(run-server exited 0)')

    // Its gateway, worker and client were seen, and none of them is left.
    expect(seen.size).toBeGreaterThanOrEqual(3)
    await expectAllGone([demo.pid!, ...seen])
    expect(ourProcesses()).toEqual([])
    expect([await portFree(15622), await portFree(15680)]).toEqual([true, true])
  })
})
