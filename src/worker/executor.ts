/**
 * Executors run one command against one device. The worker calls them with
 * an AbortSignal that fires when the command times out or the worker is
 * forced to stop; a real executor must stop its I/O when it fires.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { DeviceMap } from '../data/device-map.js'
import { UnknownCommandError } from '../protocol/errors.js'

/**
 * Runs `command` on `address` and resolves with its response. Throw
 * {@link UnknownCommandError} for an address or command it does not know
 * (reported as code 1); any other rejection is reported as code 2 with the
 * error's message. The resolved value must be MessagePack-encodable.
 *
 * @example
 * const ping: Executor = async (address, command, signal) => {
 *   if (command !== 'ping') throw new UnknownCommandError(address, command)
 *   return (await fetch(`http://${address}/health`, { signal })).status
 * }
 */
export type Executor = (address: string, command: string, signal: AbortSignal) => Promise<unknown>

/**
 * The simulated devices of a device map: each known address/command answers
 * its `response` after its `wait`. The wait is a timer that the signal
 * cancels, so a timed-out command leaves nothing behind.
 */
export function deviceMapExecutor(map: DeviceMap): Executor {
  return async (address, command, signal) => {
    const entry = map.get(address, command)
    if (entry === undefined) throw new UnknownCommandError(address, command)
    if (entry.waitMs === 0) return entry.response
    return sleep(entry.waitMs, entry.response, { signal })
  }
}
