/**
 * The gateway's status view: what `run-server --status <endpoint>` answers
 * and `gateway-status` prints. A REP socket answers `{v: 1, type: "status"}`
 * with `{v: 1, type: "status", ...GatewayStatus}`; anything else gets
 * `{v: 1, type: "error", reason}`. Requests are untrusted bytes like any other.
 */
import { Reply, Request } from 'zeromq'
import { decodeUntrusted, encode } from '../protocol/codec.js'
import { errorMessage } from '../protocol/errors.js'
import type { Logger } from '../log.js'

/** One connected worker, as the status view shows it. */
export interface WorkerStatus {
  readonly id: string
  readonly kind: 'forked' | 'remote'
  /** Process id, for forked workers. */
  readonly pid?: number
  readonly capacity: number
  /** Batches it holds now. */
  readonly inFlight: number
  /** Milliseconds since its last message. */
  readonly lastHeardMs: number
  /** Batches it finished (`done`) since it joined. */
  readonly served: number
}

/** Everything `gateway-status` prints. */
export interface GatewayStatus {
  readonly uptimeMs: number
  readonly endpoint: string
  readonly workersEndpoint: string
  readonly queue: {
    readonly batches: number
    readonly bytes: number
    /** Body bytes of the batches workers hold; they count against `--queue-bytes` too. */
    readonly heldBytes: number
    /** Clients with queued batches, deepest first (at most 50). */
    readonly clients: readonly { readonly client: string; readonly batches: number }[]
    /** All clients with queued batches, including those not listed. */
    readonly clientCount: number
  }
  readonly workers: readonly WorkerStatus[]
  readonly pool: { readonly forked: number; readonly starting: number; readonly retiring: number; readonly min: number; readonly max: number }
  readonly counters: {
    readonly received: number
    readonly malformed: number
    readonly duplicates: number
    readonly speculative: number
    readonly dispatched: number
    readonly completed: number
    readonly requeued: number
    readonly aborted: number
    readonly rejected: Readonly<Record<string, number>>
    readonly undelivered: number
    readonly workersSpawned: number
    readonly workersLost: number
    readonly workersRefused: number
  }
}

/** No status came back from a gateway; the message names its endpoint. */
export class StatusError extends Error {
  override readonly name = 'StatusError'
  readonly code = 'ERR_STATUS'
}

/** A status request is a small map; anything bigger is not one. */
const MAX_REQUEST_BYTES = 1024

/** Answers status requests on `socket` until it closes. Never rejects. */
export async function serveStatus(socket: Reply, status: () => GatewayStatus, logger: Logger): Promise<void> {
  while (!socket.closed) {
    let frames: Buffer[]
    try {
      frames = await socket.receive()
    } catch (error) {
      if (!socket.closed) logger.warn({ err: errorMessage(error) }, 'status request not received')
      continue
    }
    const decoded = frames.length === 1 ? decodeUntrusted(frames[0]!, MAX_REQUEST_BYTES, 2) : undefined
    const value = decoded?.ok === true ? decoded.value : undefined
    const valid = typeof value === 'object' && value !== null && (value as { v?: unknown }).v === 1 && (value as { type?: unknown }).type === 'status'
    // A REP socket must answer every request before the next, so even garbage gets a reply.
    try {
      const reply = valid ? { v: 1, type: 'status', ...status() } : { v: 1, type: 'error', reason: 'expected {v: 1, type: "status"}' }
      await socket.send(encode(reply))
    } catch (error) {
      if (!socket.closed) logger.warn({ err: errorMessage(error) }, 'status reply not sent')
    }
  }
}

/**
 * Asks the gateway at `endpoint` for its status. Rejects with {@link StatusError}
 * naming the endpoint when nothing answers within `timeoutMs`.
 */
export async function requestStatus(endpoint: string, timeoutMs = 3000): Promise<GatewayStatus> {
  const socket = new Request({ linger: 0, sendTimeout: timeoutMs, receiveTimeout: timeoutMs })
  try {
    socket.connect(endpoint)
    await socket.send(encode({ v: 1, type: 'status' }))
    const [frame] = await socket.receive()
    const decoded = decodeUntrusted(frame!, 16 * 1024 * 1024, 8)
    const value = decoded.ok ? (decoded.value as { type?: unknown; reason?: unknown }) : undefined
    if (value?.type !== 'status') throw new Error(`unexpected answer ${JSON.stringify(value?.reason ?? value ?? null)}`)
    const { v: _v, type: _type, ...status } = value as GatewayStatus & { v: number; type: string }
    return status
  } catch (error) {
    const reason = (error as { code?: string }).code === 'EAGAIN' ? `no answer within ${timeoutMs} ms` : errorMessage(error)
    throw new StatusError(`status of ${endpoint}: ${reason}`, { cause: error })
  } finally {
    socket.close()
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

/** The status as `gateway-status` prints it, one fact per line, like `gearadmin --status`. */
export function formatStatus(s: GatewayStatus): string {
  const c = s.counters
  const rejected = Object.entries(c.rejected).filter(([, n]) => n > 0)
  const remote = s.workers.filter((w) => w.kind === 'remote').length
  const lines = [
    `gateway   ${s.endpoint} · workers port ${s.workersEndpoint} · up ${seconds(s.uptimeMs)}`,
    `queue     ${s.queue.batches} batches (${(s.queue.bytes / 1024).toFixed(1)} KiB) from ${s.queue.clientCount} clients`,
  ]
  for (const q of s.queue.clients) lines.push(`  ${q.client}  ${q.batches} batches`)
  lines.push(
    `workers   ${s.workers.length} connected (${s.workers.length - remote} forked, ${remote} remote) · pool ${s.pool.forked} forked, ${s.pool.starting} starting, ${s.pool.retiring} retiring, min ${s.pool.min}, max ${s.pool.max}`,
  )
  if (s.workers.length > 0) {
    const rows = [['id', 'kind', 'pid', 'capacity', 'in flight', 'served', 'last heard']]
    for (const w of s.workers) {
      rows.push([w.id, w.kind, w.pid === undefined ? '-' : String(w.pid), String(w.capacity), String(w.inFlight), String(w.served), `${seconds(w.lastHeardMs)} ago`])
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
    for (const r of rows) lines.push(`  ${r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}`)
  }
  lines.push(
    `counters  received ${c.received} · dispatched ${c.dispatched} · done ${c.completed} · requeued ${c.requeued} · duplicates ${c.duplicates} · aborted ${c.aborted} · malformed ${c.malformed}`,
    `          rejected ${rejected.length === 0 ? 0 : rejected.map(([reason, n]) => `${n} ${reason}`).join(' · ')} · workers forked ${c.workersSpawned}, lost ${c.workersLost}`,
  )
  return lines.join('\n')
}

