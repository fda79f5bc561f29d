/**
 * What CGP/1 accepts as a `replyTo`: an endpoint a socket can connect to.
 * It lives in the protocol layer because header validation needs it.
 */

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
