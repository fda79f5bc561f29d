/**
 * The owner-only home of the default worker port's ipc:// socket. Forked
 * workers reach the gateway over it, so nobody else on the host may connect:
 * the socket lives in a directory created with mode 0700, which no other user
 * can enter whatever the socket file's own mode is. The directory exists
 * before ZeroMQ creates the socket in it, so there is no moment (as with a
 * chmod after bind) when the socket is open to others.
 *
 * Its name is chosen when the gateway is constructed, so the endpoint is known
 * before `start()`; `mkdir` without `recursive` fails if the name exists, so
 * a directory planted under that name in a shared /tmp is refused, never used.
 */
import { randomBytes } from 'node:crypto'
import { lstat, mkdir, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, errorMessage } from '../errors.js'

/** Unix socket paths are limited to ~107 bytes: keep the names short. */
const SOCKET_NAME = 'w.sock'
const RANDOM_BYTES = 4

export class PrivateIpcDir {
  /** The directory. */
  readonly path: string
  /** The worker port endpoint inside it. */
  readonly endpoint: string
  private created = false

  /** A name `<prefix>-<pid>-<8 hex>` in the temporary directory; nothing is created yet. */
  constructor(prefix: string) {
    this.path = join(tmpdir(), `${prefix}-${process.pid}-${randomBytes(RANDOM_BYTES).toString('hex')}`)
    this.endpoint = `ipc://${join(this.path, SOCKET_NAME)}`
  }

  /** Creates the directory, mode 0700, and checks it is ours and closed to others. */
  async create(): Promise<void> {
    try {
      await mkdir(this.path, { mode: 0o700 })
    } catch (error) {
      throw new ConfigError('ERR_ENDPOINT', `cannot create the worker port's directory ${this.path}: ${errorMessage(error)}`, { cause: error })
    }
    this.created = true
    const info = await lstat(this.path)
    // The umask can only narrow 0700; this guards against a filesystem that ignores the mode.
    if (!info.isDirectory() || (info.mode & 0o077) !== 0 || (process.getuid !== undefined && info.uid !== process.getuid())) {
      await this.remove()
      throw new ConfigError('ERR_ENDPOINT', `the worker port's directory ${this.path} is not owner-only (mode ${(info.mode & 0o777).toString(8)})`)
    }
  }

  /** Removes the directory and the socket in it; never throws. */
  async remove(): Promise<void> {
    if (!this.created) return
    this.created = false
    await rm(this.path, { recursive: true, force: true }).catch(() => undefined)
  }
}

/**
 * Removes the directories that {@link PrivateIpcDir} made with a prefix
 * matching `prefix`, for processes that are gone (a gateway killed by SIGKILL
 * cannot remove its own). Only directories this user owns are touched; one
 * whose pid is alive is left alone. Returns how many were removed; never throws.
 */
export async function removeStaleIpcDirs(prefix: RegExp): Promise<number> {
  const name = new RegExp(`^${prefix.source}-([0-9]+)-[0-9a-f]{${RANDOM_BYTES * 2}}$`)
  const dir = tmpdir()
  let removed = 0
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(name.exec(entry)?.[1])
    if (!Number.isSafeInteger(pid) || pid <= 0 || isAlive(pid)) continue
    const path = join(dir, entry)
    const info = await lstat(path).catch(() => undefined)
    if (info?.isDirectory() !== true || (process.getuid !== undefined && info.uid !== process.getuid())) continue
    await rm(path, { recursive: true, force: true }).then(() => removed++, () => undefined)
  }
  return removed
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, as another user's.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}
