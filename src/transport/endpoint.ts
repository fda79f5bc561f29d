/**
 * ZeroMQ endpoint helpers. Endpoints that reach us from the network (a
 * batch's `replyTo`) are checked here before any socket connects to them.
 */
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../protocol/errors.js'

const TCP = /^tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})$/
const IPC = /^ipc:\/\/[^\s\0]+$/

/**
 * True when `endpoint` is something a socket can connect to: `tcp://host:port`
 * with a concrete host and port (no `*`), or `ipc://path`.
 */
export function isConnectableEndpoint(endpoint: string): boolean {
  if (IPC.test(endpoint)) return true
  const match = TCP.exec(endpoint)
  if (match === null) return false
  const port = Number(match[2])
  return port > 0 && port < 65536
}

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

/** The filesystem path behind an `ipc://` endpoint, if it is one. */
export function ipcPath(endpoint: string): string | undefined {
  return endpoint.startsWith('ipc://') ? endpoint.slice('ipc://'.length) : undefined
}
