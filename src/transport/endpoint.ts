/**
 * ZeroMQ endpoint helpers. Endpoints that reach us from the network (a
 * batch's `replyTo`) are checked here before any socket connects to them.
 */
import { randomBytes } from 'node:crypto'
import { lstat, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../errors.js'
import { isConnectableEndpoint } from '../protocol/endpoint-syntax.js'

export { isConnectableEndpoint }

/** Throws a {@link ConfigError} naming `what` unless `endpoint` is connectable. */
export function assertConnectable(endpoint: string, what: string): void {
  if (!isConnectableEndpoint(endpoint)) {
    throw new ConfigError(
      'ERR_ENDPOINT',
      `${what} ${JSON.stringify(endpoint)} is not a connectable endpoint (expected tcp://host:port or ipc://path)`,
    )
  }
}

/** Throws a {@link ConfigError} naming `what` unless `endpoint` looks bindable (tcp:// or ipc://). */
export function assertBindable(endpoint: string, what: string): void {
  if (!/^(tcp:\/\/\S+:(\*|[0-9]{1,5})|ipc:\/\/\S+)$/.test(endpoint)) {
    throw new ConfigError(
      'ERR_ENDPOINT',
      `${what} ${JSON.stringify(endpoint)} is not a bindable endpoint (expected tcp://host:port, tcp://host:* or ipc://path)`,
    )
  }
}

/** True when a bound tcp endpoint listens on every interface, so peers cannot use it as an address. */
export function isWildcardHost(endpoint: string): boolean {
  return /^tcp:\/\/(\*|0\.0\.0\.0|\[::\]|\[::0\]):/.test(endpoint)
}

/**
 * A fresh `ipc://` path in the temporary directory. Unix socket paths are
 * limited to ~107 bytes, so the name stays short.
 */
export function uniqueIpcEndpoint(prefix: string): string {
  return `ipc://${join(tmpdir(), `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}.sock`)}`
}

/** What {@link uniqueIpcEndpoint} appends to its prefix; the pid is the group. */
const UNIQUE_IPC_SUFFIX = /-([0-9]+)-[0-9a-f]{8}\.sock$/

/**
 * Removes the socket files that {@link uniqueIpcEndpoint} made, with a prefix
 * matching `prefix`, for processes that are gone: a process killed by SIGKILL
 * cannot remove its own, and they would pile up in the temporary directory. A
 * file whose pid is alive (or that cannot be checked) is left alone. Returns
 * how many were removed; never throws.
 */
export async function removeStaleIpcFiles(prefix: RegExp): Promise<number> {
  const name = new RegExp(`^${prefix.source}${UNIQUE_IPC_SUFFIX.source}`)
  let removed = 0
  const dir = tmpdir()
  const entries = await readdir(dir).catch(() => [] as string[])
  for (const entry of entries) {
    const pid = Number(name.exec(entry)?.[1])
    if (!Number.isSafeInteger(pid) || pid <= 0 || isAlive(pid)) continue
    const path = join(dir, entry)
    const stat = await lstat(path).catch(() => undefined)
    if (stat?.isSocket() !== true) continue
    await rm(path, { force: true }).then(() => removed++, () => undefined)
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

/** The filesystem path behind an `ipc://` endpoint, if it is one. */
export function ipcPath(endpoint: string): string | undefined {
  return endpoint.startsWith('ipc://') ? endpoint.slice('ipc://'.length) : undefined
}
