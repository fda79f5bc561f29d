/**
 * CGP/1 peers played by hand on real sockets, for tests that need a worker or
 * a client to misbehave on purpose: a DEALER playing a worker, and a PUSH
 * plus a bound PULL playing a client.
 */
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Dealer, Pull, Push, Router } from 'zeromq'
import { decodeMessage, enc, type Header, type Received } from './independent-cgp.js'
import { waitFor } from './processes.js'

let handRouters = 0

/**
 * A ROUTER playing a gateway's worker port, bound on a fresh ipc:// path.
 * Registered with `track`, whose `close()` closes it and removes its socket
 * file (ZeroMQ leaves the file behind when the process ends first).
 */
export async function handRouter(track: Track): Promise<{ router: Router; endpoint: string }> {
  const path = join(tmpdir(), `cgw-hand-${process.pid}-${++handRouters}.sock`)
  const router = new Router({ linger: 0 })
  track({
    close() {
      router.close()
      rmSync(path, { force: true })
    },
  })
  await router.bind(`ipc://${path}`)
  return { router, endpoint: `ipc://${path}` }
}

/** Registers a socket for closing after the test. */
export type Track = <T extends { close(): void }>(socket: T) => T

export interface HandWorkerOptions {
  /** Say ready at once (default), or never (a peer that only claims a routing id). */
  readonly ready?: boolean
  /** A ZeroMQ routing id of its own choosing. @default the worker id */
  readonly routingId?: string
  /** Answer every task with `done` at once, as a fast honest worker would. */
  readonly autoDone?: boolean
  /** Send a heartbeat this often, so the gateway never declares it dead (a hoarder's trick). */
  readonly heartbeatMs?: number
}

/** A worker played by hand: it says ready and reports every message the gateway sends it. */
export class HandWorker {
  readonly dealer: Dealer
  readonly inbox: Received[] = []

  constructor(
    endpoint: string,
    readonly id: string,
    capacity: number,
    track: Track,
    options: HandWorkerOptions = {},
  ) {
    const dealer = track(new Dealer({ routingId: options.routingId ?? id, linger: 0 }))
    this.dealer = dealer
    if (options.heartbeatMs !== undefined) {
      const beating = setInterval(() => void this.send({ v: 1, type: 'heartbeat' }).catch(() => undefined), options.heartbeatMs)
      track({ close: () => clearInterval(beating) })
    }
    dealer.connect(endpoint)
    if (options.ready !== false) void this.send({ v: 1, type: 'ready', worker: id, capacity })
    void (async () => {
      for await (const frames of dealer) {
        const message = decodeMessage(frames)
        this.inbox.push(message)
        const h = message.header
        if (options.autoDone === true && h?.type === 'task') await this.send({ v: 1, type: 'done', id: h.id, client: h.client })
      }
    })().catch(() => undefined)
  }

  send(header: Header): Promise<void> {
    return this.dealer.send(enc(header))
  }

  tasks(): Header[] {
    return this.inbox.filter((m) => m.header?.type === 'task').map((m) => m.header!)
  }

  async nthTask(n: number, timeoutMs = 5000): Promise<Header> {
    await waitFor(() => this.tasks().length >= n, `${this.id} to receive task number ${n}`, timeoutMs)
    return this.tasks()[n - 1]!
  }
}

export interface HandClient {
  send(id: string, client?: string, attempt?: number, body?: Buffer): Promise<void>
  abort(client: string): Promise<void>
  readonly replies: Pull
  readonly replyTo: string
  readonly push: Push
}

/** A client played by hand: a PUSH to the intake and a bound PULL for replies. */
export async function handClient(endpoint: string, track: Track): Promise<HandClient> {
  const replies = track(new Pull({ linger: 0 }))
  await replies.bind('tcp://127.0.0.1:*')
  const replyTo = replies.lastEndpoint!
  const push = track(new Push({ linger: 0 }))
  push.connect(endpoint)
  return {
    replies,
    replyTo,
    push,
    send: (id, client = 'client-a', attempt = 1, body = enc([['10.0.0.1', 'foo']])) =>
      push.send([enc({ v: 1, type: 'task', id, client, replyTo, attempt }), body]),
    abort: (client) => push.send([enc({ v: 1, type: 'abort', client })]),
  }
}
