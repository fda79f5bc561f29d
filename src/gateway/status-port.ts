/**
 * The gateway's status port: a REP socket that answers `gateway-status`
 * (see status.ts for the exchange). Only a file it bound is its to remove:
 * one that failed to bind may be another gateway's.
 */
import { rm } from 'node:fs/promises'
import { Reply, type Context, type Socket } from 'zeromq'
import { ConfigError, errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import { assertBindable, ipcPath } from '../transport/endpoint.js'
import { background } from '../util/background.js'
import { serveStatus, type GatewayStatus } from './status.js'

export class StatusPort {
  private readonly socket: Reply
  private bound = false

  constructor(
    private readonly endpoint: string,
    context?: Context,
  ) {
    assertBindable(endpoint, 'status endpoint')
    this.socket = new Reply({ ...(context === undefined ? {} : { context }), linger: 0, maxMessageSize: 1024 })
  }

  /** Lets `apply` make the socket a CURVE server before it binds (see CurveGuard.secure). */
  secure(apply: (socket: Socket) => void): void {
    apply(this.socket)
  }

  async bind(): Promise<void> {
    try {
      await this.socket.bind(this.endpoint)
    } catch (error) {
      throw new ConfigError('ERR_ENDPOINT', `cannot bind status endpoint ${this.endpoint}: ${errorMessage(error)}`, { cause: error })
    }
    this.bound = true
  }

  /** Answers requests until closed, in the background. */
  serve(status: () => GatewayStatus, logger: Logger): void {
    background(serveStatus(this.socket, status, logger), logger, 'status port')
  }

  close(): void {
    this.socket.close()
  }

  /** Removes the socket file, if it is an ipc:// one this port bound. */
  async removeFile(): Promise<void> {
    const path = this.bound ? ipcPath(this.endpoint) : undefined
    if (path !== undefined) await rm(path, { force: true }).catch(() => undefined)
  }
}
