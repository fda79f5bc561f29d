/**
 * The `tcp` kind: a TCP connect to `address:port` (see checks.md). OK on
 * connect, CRITICAL with the error code when the connect fails. The socket is
 * destroyed as soon as the answer is known, and the check settles only once
 * it has closed, so no socket outlives its check.
 */
import { connect, type Socket } from 'node:net'
import { errorCode, errorMessage } from '../../errors.js'
import { watchRun } from './run-watch.js'
import { CheckState, type RunCheck, type TcpCheck } from './types.js'

/**
 * Connects to `run.address` on `check.port`. Resolves OK with
 * `connected in N ms`, or CRITICAL with the code of the failure
 * (`ECONNREFUSED`, `EHOSTUNREACH`, `ENOTFOUND`, …); rejects with
 * `CommandTimeoutError` after `run.timeoutMs`, or with the signal's reason.
 *
 * @example
 * await runTcp({ kind: 'tcp', port: 22 }, run) // { state: 0, output: 'connected in 1 ms', ms: 0.84 }
 */
export const runTcp: RunCheck<TcpCheck> = (check, run) => {
  if (run.signal.aborted) return Promise.reject(run.signal.reason)
  return new Promise((resolve, reject) => {
    /** How the check ends, decided by whichever comes first and carried out once the socket has closed. */
    let outcome: (() => void) | undefined
    const decide = (settle: () => void): void => {
      if (outcome !== undefined) return
      outcome = settle
      watch.dispose()
    }
    let socket: Socket
    try {
      socket = connect({ host: run.address, port: check.port })
    } catch (error) {
      // A port net refuses outright (the parser should have): the check fails, the worker does not.
      reject(error)
      return
    }
    const watch = watchRun(run, (reason) => {
      decide(() => reject(reason))
      socket.destroy()
    })
    socket.once('connect', () => {
      const ms = watch.elapsedMs()
      decide(() => resolve({ state: CheckState.Ok, output: `connected in ${Math.round(ms)} ms`, ms }))
      socket.destroy()
    })
    socket.on('error', (error) => {
      const ms = watch.elapsedMs()
      decide(() => resolve({ state: CheckState.Critical, output: errorCode(error) ?? errorMessage(error), ms }))
    })
    socket.once('close', () => outcome?.())
  })
}
