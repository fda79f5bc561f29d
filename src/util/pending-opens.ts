/**
 * open() calls that may block, and a way to let them go.
 *
 * libuv runs every fs.open() in its threadpool. Opening a FIFO for reading
 * blocks until a writer opens it (for writing, until a reader does), and
 * nothing inside the process can cancel that call. Worse, process.exit()
 * joins the threadpool (uv_library_shutdown), so a process holding such a
 * call cannot even exit: Ctrl+C and a second Ctrl+C both hang.
 *
 * {@link openTracked} records each open while it is pending, and
 * {@link releasePendingOpens} ends the pending ones on FIFOs by opening the
 * other end without blocking (O_NONBLOCK) and closing it at once: the blocked
 * open() returns, and the thread is free again.
 */
import { closeSync, constants, open, openSync, statSync } from 'node:fs'

interface PendingOpen {
  readonly path: string
  readonly flags: number
  readonly since: number
}

/** A pending open of anything but a FIFO counts as stuck after this long. */
const STUCK_MS = 1000

const pending = new Set<PendingOpen>()

/** `fs.open()` as a promise of the descriptor, recorded while it is pending. */
export function openTracked(path: string, flags: number, mode = 0o666): Promise<number> {
  const entry: PendingOpen = { path, flags, since: performance.now() }
  pending.add(entry)
  return new Promise<number>((resolve, reject) => {
    open(path, flags, mode, (error, fd) => {
      pending.delete(entry)
      if (error !== null) reject(error)
      else resolve(fd)
    })
  })
}

/**
 * Lets every pending open of a FIFO return, by opening its other end without
 * blocking and closing that again. Returns the paths it could not release:
 * opens of anything else pending for over a second (a hung network file
 * system, a device), which nothing in the process can end.
 */
export function releasePendingOpens(): string[] {
  const stuck: string[] = []
  for (const entry of pending) {
    try {
      if (!statSync(entry.path).isFIFO()) {
        if (performance.now() - entry.since > STUCK_MS) stuck.push(entry.path)
        continue
      }
      const writing = (entry.flags & (constants.O_WRONLY | constants.O_RDWR)) !== 0
      // A reader waits for a writer and the other way round. O_NONBLOCK: opening for
      // reading never waits; opening for writing fails (ENXIO) if no reader is waiting,
      // in which case the pending open was not blocked on this FIFO anyway.
      const other = openSync(entry.path, (writing ? constants.O_RDONLY : constants.O_WRONLY) | constants.O_NONBLOCK)
      closeSync(other)
    } catch {
      // Gone, or nobody blocked on it: nothing to release.
    }
  }
  return stuck
}
