/**
 * The gateway's status view: what `run-server --status <endpoint>` answers
 * and `gateway-status` prints. A REP socket answers `{v: 1, type: "status"}`
 * with `{v: 1, type: "status", ...GatewayStatus}`; anything else gets
 * `{v: 1, type: "error", reason}`. Requests are untrusted bytes like any other.
 */
import { Reply, Request } from 'zeromq'
import { decodeUntrusted, encode } from '../protocol/codec.js'
import { StatusError, errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import type { CurveClientSocketOptions } from '../security/curve.js'
import { terminalSafe, terminalSafeValue } from '../util/terminal-text.js'
import { applySchema } from '../options/resolve.js'
import { statusSchema } from '../options/status.js'
import { curveClientOptions } from '../security/curve.js'
import { readPeerKeys } from '../security/peer-keys.js'
import type { RecentRates } from './rate-history.js'

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
    /** Tasks read; this and the other optional counters are absent from gateways before metrics. */
    readonly batchesReceived?: number
    readonly commandsReceived?: number
    /** `abort` messages read. */
    readonly aborts?: number
    readonly malformed: number
    readonly malformedFrom?: { readonly intake: number; readonly workers: number }
    readonly duplicates: number
    readonly speculative: number
    readonly dispatched: number
    readonly completed: number
    /** Commands of completed batches by outcome, as their workers' `done` counted them. */
    readonly commands?: { readonly ok: number; readonly unknown: number; readonly failed: number; readonly timeout: number; readonly cancelled: number }
    /** Check results of completed batches by state. */
    readonly states?: { readonly ok: number; readonly warning: number; readonly critical: number; readonly unknown: number }
    readonly requeued: number
    readonly aborted: number
    readonly cancelsSent: number
    readonly rejected: Readonly<Record<string, number>>
    readonly undelivered: number
    readonly workersSpawned: number
    readonly workersLost: number
    readonly workersRefused: number
    /** Connections refused by CURVE per port (absent from gateways before CURVE). */
    readonly refused?: { readonly intake: number; readonly workers: number; readonly status: number }
  }
  /** CURVE and the replyTo policy (absent from gateways before CURVE). */
  readonly security?: {
    readonly curve: boolean
    /** The gateway's CURVE public key (Z85), what clients, workers and operators need as its server key. */
    readonly publicKey?: string
    /** Keys allowed per port; the worker port's leaves out the gateway's own key. */
    readonly allowed?: { readonly clients: number; readonly workers: number; readonly admins: number }
    /** The `--reply-allow` entries; absent: every replyTo. */
    readonly replyAllow?: readonly string[]
  }
  /** Throughput over the last minute, one entry a second, oldest first (absent from gateways before it). */
  readonly recent?: RecentRates
}

export { StatusError }

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

/** Options of {@link requestStatus}. */
export interface StatusRequestOptions {
  /**
   * Give up after this long without an answer, in milliseconds.
   * @default 3000
   */
  readonly timeoutMs?: number
  /** This operator's CURVE certificate (`NAME.key_secret`); its key must be in the gateway's `--admins-allow`. Needs {@link serverKey}. */
  readonly curveSecret?: string
  /** The gateway's public certificate (`NAME.key`). Needs {@link curveSecret}. */
  readonly serverKey?: string
  /** Gives up at once when aborted (`gateway-status --watch` on Ctrl+C): the socket closes and the call rejects with a StatusError. */
  readonly signal?: AbortSignal
}

/**
 * Asks the gateway at `endpoint` for its status (`options` may be the
 * timeout alone, in milliseconds). Rejects with {@link StatusError} naming the
 * endpoint when nothing answers within the timeout (over CURVE, also when the
 * gateway refuses our key), and with a `ConfigError` when an option or a
 * certificate file is wrong. `curve` takes keys already in memory instead of
 * certificate files: `curveClientOptions(identity, gatewayPublicKey)`.
 *
 * @example
 * await requestStatus('tcp://10.0.0.5:5560', { curveSecret: 'admin.key_secret', serverKey: 'gateway.key' })
 */
export async function requestStatus(endpoint: string, options: number | StatusRequestOptions = {}, curveOptions?: CurveClientSocketOptions): Promise<GatewayStatus> {
  const o = applySchema(statusSchema, typeof options === 'number' ? { timeoutMs: options } : options)
  const timeoutMs = o.timeoutMs
  const keys = curveOptions === undefined ? readPeerKeys(o) : undefined
  const curve = curveOptions ?? (keys === undefined ? {} : curveClientOptions(keys.identity, keys.serverKeys[0]!))
  const socket = new Request({ linger: 0, sendTimeout: timeoutMs, receiveTimeout: timeoutMs, ...curve })
  const onAbort = (): void => socket.close()
  o.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    if (o.signal?.aborted === true) throw new Error('interrupted')
    // A key the gateway's ZAP handler refuses ends the wait at once, with a reason worth printing.
    const refused =
      keys === undefined
        ? undefined
        : new Promise<never>((_, reject) =>
            socket.events.on('handshake:error:auth', (event) =>
              reject(new Error(`the gateway refused this key, ${keys.identity.publicKey} (ZAP status ${event.error.status}): is its NAME.key in the gateway's --admins-allow?`)),
            ),
          )
    refused?.catch(() => undefined)
    socket.connect(endpoint)
    await socket.send(encode({ v: 1, type: 'status' }))
    const [frame] = await (refused === undefined ? socket.receive() : Promise.race([socket.receive(), refused]))
    const decoded = decodeUntrusted(frame!, 16 * 1024 * 1024, 8)
    const value = decoded.ok ? (decoded.value as { type?: unknown; reason?: unknown }) : undefined
    if (value?.type !== 'status') {
      const what = value?.reason ?? value ?? null
      throw new Error(`unexpected answer ${typeof what === 'string' ? `"${terminalSafe(what, { maxLength: MAX_FIELD_CHARS })}"` : terminalSafeValue(what, MAX_FIELD_CHARS)}`)
    }
    const { v: _v, type: _type, ...status } = value as GatewayStatus & { v: number; type: string }
    return status
  } catch (error) {
    const reason = o.signal?.aborted === true ? 'interrupted' : (error as { code?: string }).code === 'EAGAIN' ? `no answer within ${timeoutMs} ms` : errorMessage(error)
    throw new StatusError(`status of ${endpoint}: ${reason}`, { cause: error })
  } finally {
    o.signal?.removeEventListener('abort', onAbort)
    socket.close()
  }
}

/** Longest id or endpoint printed; a gateway's own are far shorter (ids: 128 bytes). */
const MAX_FIELD_CHARS = 200

/** A network-sourced string (or whatever came in its place), safe for a terminal. */
function text(value: unknown): string {
  return terminalSafeValue(value, MAX_FIELD_CHARS)
}

/** A count from the network: a number as it is, anything else escaped. */
function count(value: unknown): string {
  return terminalSafeValue(value, 40)
}

function seconds(ms: unknown): string {
  return typeof ms === 'number' ? `${(ms / 1000).toFixed(1)} s` : text(ms)
}

function kib(bytes: unknown): string {
  return typeof bytes === 'number' ? `${(bytes / 1024).toFixed(1)} KiB` : text(bytes)
}

function list<T>(value: readonly T[] | undefined): readonly T[] {
  return Array.isArray(value) ? value : []
}

/**
 * The status as `gateway-status` prints it, one fact per line, like
 * `gearadmin --status`. Everything in it came over the network, so every
 * string (client and worker ids, endpoints, kinds, rejection reasons) goes
 * through {@link terminalSafe}: an id holding `ESC [2J` prints as `\x1b[2J`.
 */
export function formatStatus(s: GatewayStatus): string {
  const c = s.counters ?? ({} as Partial<GatewayStatus['counters']>)
  const rejected = Object.entries(c.rejected ?? {}).filter(([, n]) => n !== 0)
  const workers = list(s.workers)
  const queue = s.queue ?? ({} as Partial<GatewayStatus['queue']>)
  const pool = s.pool ?? ({} as Partial<GatewayStatus['pool']>)
  const remote = workers.filter((w) => w?.kind === 'remote').length
  const lines = [
    `gateway   ${text(s.endpoint)} · workers port ${text(s.workersEndpoint)} · up ${seconds(s.uptimeMs)}`,
    `queue     ${count(queue.batches)} batches (${kib(queue.bytes)}) from ${count(queue.clientCount)} clients · ${kib(queue.heldBytes)} held by workers`,
  ]
  for (const q of list(queue.clients)) lines.push(`  ${text(q?.client)}  ${count(q?.batches)} batches`)
  lines.push(
    `workers   ${workers.length} connected (${workers.length - remote} forked, ${remote} remote) · pool ${count(pool.forked)} forked, ${count(pool.starting)} starting, ${count(pool.retiring)} retiring, min ${count(pool.min)}, max ${count(pool.max)}`,
  )
  if (workers.length > 0) {
    const rows = [['id', 'kind', 'pid', 'capacity', 'in flight', 'served', 'last heard']]
    for (const w of workers) {
      rows.push([
        text(w?.id),
        text(w?.kind),
        w?.pid === undefined ? '-' : count(w.pid),
        count(w?.capacity),
        count(w?.inFlight),
        count(w?.served),
        `${seconds(w?.lastHeardMs)} ago`,
      ])
    }
    const widths = rows[0]!.map((_, i) => rows.reduce((width, r) => Math.max(width, r[i]!.length), 0))
    for (const r of rows) lines.push(`  ${r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}`)
  }
  // Gateways before metrics have no batchesReceived, malformedFrom, commands or states: their lines stay as they were.
  const received = c.batchesReceived === undefined ? '' : ` (${count(c.batchesReceived)} batches, ${count(c.aborts)} aborts)`
  const from = c.malformedFrom
  const malformedFrom = from === undefined || typeof from !== 'object' || from === null ? '' : ` (intake ${count(from.intake)}, workers ${count(from.workers)})`
  lines.push(
    `counters  received ${count(c.received)}${received} · dispatched ${count(c.dispatched)} · done ${count(c.completed)} · requeued ${count(c.requeued)} · duplicates ${count(c.duplicates)} · second runs ${count(c.speculative)} · aborted ${count(c.aborted)} · cancels sent ${count(c.cancelsSent)} · malformed ${count(c.malformed)}${malformedFrom}`,
    `          rejected ${rejected.length === 0 ? 0 : rejected.map(([reason, n]) => `${count(n)} ${text(reason)}`).join(' · ')} (${count(c.undelivered)} undelivered) · workers forked ${count(c.workersSpawned)}, lost ${count(c.workersLost)}, refused ${count(c.workersRefused)}`,
  )
  const commands = formatCommands(c)
  if (commands !== undefined) lines.push(commands)
  const states = formatStates(c.states)
  if (states !== undefined) lines.push(states)
  const security = formatSecurity(s.security, c.refused)
  if (security !== undefined) lines.push(security)
  lines.push(...formatRecent(s.recent))
  return lines.join('\n')
}

/** The `commands` line: commands taken in, and those of completed batches by outcome (as workers counted them). */
function formatCommands(c: Partial<GatewayStatus['counters']>): string | undefined {
  const outcomes = c.commands
  if (c.commandsReceived === undefined && outcomes === undefined) return undefined
  const parts = [`received ${count(c.commandsReceived)}`]
  if (typeof outcomes === 'object' && outcomes !== null) {
    for (const outcome of ['ok', 'unknown', 'failed', 'timeout', 'cancelled'] as const) parts.push(`${outcome} ${count(outcomes[outcome])}`)
  }
  return `commands  ${parts.join(' · ')}`
}

/** The `states` line, as run-client prints it, once any check result came back. */
function formatStates(states: GatewayStatus['counters']['states']): string | undefined {
  if (typeof states !== 'object' || states === null) return undefined
  const names = ['ok', 'warning', 'critical', 'unknown'] as const
  if (names.every((name) => states[name] === 0)) return undefined
  return `states    ${names.map((name) => `${count(states[name])} ${name}`).join(' · ')}`
}

/** The `security` line, for a gateway with CURVE or a replyTo policy. */
function formatSecurity(security: GatewayStatus['security'], refused: GatewayStatus['counters']['refused']): string | undefined {
  if (security === undefined || typeof security !== 'object' || security === null) return undefined
  const policy = Array.isArray(security.replyAllow) ? security.replyAllow : undefined
  if (security.curve !== true && policy === undefined) return undefined
  const parts = [security.curve === true ? 'CURVE on' : 'CURVE off']
  const allowed = security.allowed
  if (allowed !== undefined) parts.push(`allowed ${count(allowed.clients)} clients, ${count(allowed.workers)} workers, ${count(allowed.admins)} admins`)
  if (refused !== undefined) parts.push(`refused intake ${count(refused.intake)}, workers ${count(refused.workers)}, status ${count(refused.status)}`)
  parts.push(`reply-allow ${policy === undefined ? 'any' : policy.map(text).join(',')}`)
  return `security  ${parts.join(' · ')}`
}

const SPARKS = '▁▂▃▄▅▆▇█'

/** A rate for people: two decimals under 10, one under 100, none above; no trailing zeros. */
function rate(value: number): string {
  return String(Number(value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)))
}

/**
 * The `recent` lines, one per rate: its last minute as a sparkline scaled to
 * the minute's peak, then the last second's value, the average and the peak.
 * Entries that are not rates (from a gateway gone wrong) count as 0.
 */
function formatRecent(recent: GatewayStatus['recent']): string[] {
  if (typeof recent !== 'object' || recent === null) return []
  const intervalMs = typeof recent.intervalMs === 'number' && recent.intervalMs > 0 ? recent.intervalMs : 1000
  const series: [string, unknown][] = [
    ['batches/s ', recent.batchesPerSecond],
    ['commands/s', recent.commandsPerSecond],
  ]
  const lines: string[] = []
  for (const [name, values] of series) {
    if (!Array.isArray(values) || values.length === 0) continue
    const rates = values.slice(-60).map((v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0))
    const peak = Math.max(...rates)
    const spark = rates.map((v) => SPARKS[peak === 0 ? 0 : Math.round((v / peak) * (SPARKS.length - 1))]).join('')
    const average = rates.reduce((sum, v) => sum + v, 0) / rates.length
    const span = `${rate((rates.length * intervalMs) / 1000)} s`
    lines.push(`${lines.length === 0 ? 'recent   ' : '         '} ${name} ${spark}  now ${rate(rates.at(-1)!)} · avg ${rate(average)} · peak ${rate(peak)} (last ${span})`)
  }
  return lines
}
