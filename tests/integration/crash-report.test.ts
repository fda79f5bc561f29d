/**
 * The crash report that makes a crash fail the test during which it happened
 * (tests/setup/crash-watch.ts). These tests read and remove the reports they
 * cause, so the watch itself stays quiet.
 */
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { WorkerPool } from '../../dist/gateway/worker-pool.js'
import { ROOT, expectAllGone } from '../helpers/processes.js'

const FIXTURE = join(ROOT, 'tests', 'fixtures', 'crashing-process.mjs')

/** Takes every crash report written so far out of the suite's crash directory. */
function takeReports(): string[] {
  const dir = process.env.CGW_CRASH_DIR!
  return readdirSync(dir).map((name) => {
    const text = readFileSync(join(dir, name), 'utf8')
    rmSync(join(dir, name))
    return text
  })
}

describe('a process of ours with an unhandled rejection', () => {
  it('exits 70 naming the error, and leaves a report for the test suite', async () => {
    const child = spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(code).toBe(70)
    expect(stderr).toMatch(/unhandled rejection: Error: a promise nobody awaited/)
    const reports = takeReports()
    expect(reports).toHaveLength(1)
    expect(reports[0]).toMatch(/crashing-process \(pid \d+\): unhandled rejection/)
  })
})

describe('a forked worker that exits with a non-zero code', () => {
  it('is reported by the pool, even though the gateway would fork another', async () => {
    const pool = new WorkerPool({} as never, 'crash-test', pino({ level: 'silent' }), FIXTURE)
    process.env.CGW_TEST_EXIT_CODE = '3'
    let worker: ReturnType<WorkerPool['spawn']>
    try {
      worker = pool.spawn()
    } finally {
      delete process.env.CGW_TEST_EXIT_CODE
    }
    expect(worker).toBeDefined()
    await worker!.exited
    await expectAllGone([worker!.pid])
    expect(takeReports().join('')).toMatch(/forked worker crash-test-w1-[0-9a-f]{8} \(pid \d+\) exited with code 3/)
  })
})
