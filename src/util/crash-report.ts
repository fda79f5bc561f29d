/**
 * What a process of ours does with an error nothing caught: an unhandled
 * rejection or an uncaught exception is a bug, and the process is in an
 * unknown state, so it exits 70 (EX_SOFTWARE) after one line naming the
 * error. With `CGW_CRASH_DIR` set (the test suite sets it), the error is also
 * written there as a file, so a crash of a worker that the gateway respawns,
 * or of any process a test started, fails that test instead of hiding.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const CRASH_EXIT_CODE = 70

let installed = false

/** Writes `text` as a crash report when `CGW_CRASH_DIR` is set (the test suite); never throws. */
export function writeCrashReport(role: string, text: string): void {
  const dir = process.env.CGW_CRASH_DIR
  if (dir === undefined || dir.length === 0) return
  try {
    writeFileSync(join(dir, `${role}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.txt`), text)
  } catch {
    // A report that cannot be written must not become a crash of its own.
  }
}

/** Installs the handlers once per process; `role` names the process in the report. */
export function installCrashReport(role: string): void {
  if (installed) return
  installed = true
  const report = (kind: string, error: unknown): void => {
    const text = `${role} (pid ${process.pid}): ${kind}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`
    try {
      process.stderr.write(text)
      writeCrashReport(role, text)
    } finally {
      process.exit(CRASH_EXIT_CODE)
    }
  }
  process.on('unhandledRejection', (reason) => report('unhandled rejection', reason))
  process.on('uncaughtException', (error) => report('uncaught exception', error))
}
