/**
 * Every process the suite starts inherits CGW_CRASH_DIR; one that dies of an
 * unhandled rejection or uncaught exception writes its error there
 * (src/util/crash-report.ts), and a gateway writes one when a forked worker
 * exits with a non-zero code. The test during which that happened fails,
 * with the error, even when the gateway respawned the worker and the test's
 * own assertions still held.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach } from 'vitest'

const dir = mkdtempSync(join(tmpdir(), 'cgw-crashes-'))
process.env.CGW_CRASH_DIR = dir

function collectCrashes(): string[] {
  const reports: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    reports.push(readFileSync(path, 'utf8'))
    rmSync(path, { force: true })
  }
  return reports
}

function failOnCrashes(when: string): void {
  const reports = collectCrashes()
  if (reports.length > 0) throw new Error(`${reports.length} process(es) crashed ${when}:\n${reports.join('\n')}`)
}

afterEach(() => failOnCrashes('during this test'))

afterAll(() => {
  try {
    failOnCrashes('after the last test of this file')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
