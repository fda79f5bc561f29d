/**
 * Builders for outgoing frames. Constant headers are encoded once at load
 * time, because heartbeats go out every interval to every peer.
 */
import { encode } from './codec.js'
import { Fix, Tag } from './msgpack-tags.js'
import type {
  AbortHeader,
  ByeHeader,
  CancelHeader,
  CommandOutcome,
  CommandPair,
  DoneHeader,
  OutcomeCounts,
  ReadyHeader,
  RejectReason,
  RejectedHeader,
  ResultHeader,
  StateCounts,
  TaskHeader,
} from './types.js'

export const HEARTBEAT_FRAME: Buffer = encode({ v: 1, type: 'heartbeat' })
export const STOP_FRAME: Buffer = encode({ v: 1, type: 'stop' })

/** A task header; `replyKey` (the client's CURVE public key) only when given: an absent key is no key, never nil. */
export function taskFrame(id: string, client: string, replyTo: string, attempt: number, replyKey?: string): Buffer {
  const header: TaskHeader =
    replyKey === undefined ? { v: 1, type: 'task', id, client, replyTo, attempt } : { v: 1, type: 'task', id, client, replyTo, attempt, replyKey }
  return encode(header)
}

/**
 * A task body, `[[address, command], …]`, written by msgpackr: it beats the
 * hand-written encoder this replaced by about 2× (bench/micro/task-body.mjs).
 * Copied out of msgpackr's shared buffer because the client keeps the body for
 * resends while its batch is in flight, and a slice would pin the whole buffer.
 */
export function commandsBody(pairs: readonly CommandPair[]): Buffer {
  return Buffer.from(encode(pairs))
}

/**
 * `[address, command]` pairs for {@link commandListBody}, reused from one call
 * to the next (it is synchronous). A fresh pair per command was 14 of the
 * 114 MB a fresh client allocated for 200 000 commands, enough extra
 * scavenging to make V8 double its young generation (P5a).
 */
let scratch: [string, string][] = []

/** The same body, straight from parsed command lines. */
export function commandListBody(commands: readonly { readonly address: string; readonly command: string }[]): Buffer {
  const n = commands.length
  if (scratch.length !== n) scratch = Array.from({ length: n }, (): [string, string] => ['', ''])
  for (let i = 0; i < n; i++) {
    const pair = scratch[i]!
    pair[0] = commands[i]!.address
    pair[1] = commands[i]!.command
  }
  const body = Buffer.from(encode(scratch))
  // The strings go with their batch; the scratch must not keep them alive until the next call.
  for (let i = 0; i < n; i++) scratch[i]![0] = scratch[i]![1] = ''
  return body
}

export function abortFrame(client: string): Buffer {
  const header: AbortHeader = { v: 1, type: 'abort', client }
  return encode(header)
}

export function resultFrame(id: string, client: string, worker: string, attempt: number): Buffer {
  const header: ResultHeader = { v: 1, type: 'result', id, client, worker, attempt }
  return encode(header)
}

export function outcomesBody(outcomes: readonly CommandOutcome[]): Buffer {
  return smallOutcomesBody(outcomes) ?? encode(outcomes)
}

const INT32_MIN = -2_147_483_648
const INT32_MAX = 2_147_483_647

/**
 * Most results are `[code, small integer or nil]`; writing those bytes by hand
 * costs a third to a half of msgpackr's walk (bench/micro/result-body.mjs).
 * Returns undefined when any value is something else, for msgpackr to handle.
 */
function smallOutcomesBody(outcomes: readonly CommandOutcome[]): Buffer | undefined {
  const n = outcomes.length
  // Per outcome at most: fixarray, code, int32 tag and 4 bytes.
  const out = Buffer.allocUnsafe(5 + n * 7)
  let at = writeArrayHeader(out, 0, n)
  for (let i = 0; i < n; i++) {
    const [code, value] = outcomes[i]!
    out[at++] = Fix.Array | 2
    out[at++] = code
    if (value === null || value === undefined) out[at++] = Tag.Nil
    else if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) return undefined
    else if (value >= 0 && value <= Fix.PositiveIntMax) out[at++] = value
    else if (value < 0 && value >= Fix.NegativeIntMin) out[at++] = value & 0xff
    else {
      out[at++] = Tag.Int32
      at = out.writeInt32BE(value, at)
    }
  }
  return out.subarray(0, at)
}

function writeArrayHeader(out: Buffer, at: number, n: number): number {
  if (n <= Fix.ArrayMaxItems) {
    out[at] = Fix.Array | n
    return at + 1
  }
  if (n <= 0xffff) {
    out[at] = Tag.Array16
    return out.writeUInt16BE(n, at + 1)
  }
  out[at] = Tag.Array32
  return out.writeUInt32BE(n, at + 1)
}

export function rejectedFrame(id: string, client: string, reason: RejectReason, retryable: boolean): Buffer {
  const header: RejectedHeader = { v: 1, type: 'rejected', id, client, reason, retryable }
  return encode(header)
}

export function readyFrame(worker: string, capacity: number): Buffer {
  const header: ReadyHeader = { v: 1, type: 'ready', worker, capacity }
  return encode(header)
}

/** What a worker reports with `done` about the batch it ran (all optional on the wire). */
export interface DoneReport {
  readonly counts: OutcomeCounts
  readonly ms: number
  /** Only when some code-0 value was a check result. */
  readonly states?: StateCounts
}

/** A `done`; with `report`, its `counts`, `ms` and (when given) `states`. */
export function doneFrame(id: string, client: string, report?: DoneReport): Buffer {
  if (report === undefined) {
    const header: DoneHeader = { v: 1, type: 'done', id, client }
    return encode(header)
  }
  const { counts, ms, states } = report
  const header: DoneHeader = states === undefined ? { v: 1, type: 'done', id, client, counts, ms } : { v: 1, type: 'done', id, client, counts, ms, states }
  return encode(header)
}

export function cancelFrame(client: string): Buffer {
  const header: CancelHeader = { v: 1, type: 'cancel', client }
  return encode(header)
}

export function byeFrame(worker: string): Buffer {
  const header: ByeHeader = { v: 1, type: 'bye', worker }
  return encode(header)
}
