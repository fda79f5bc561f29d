/**
 * Builders for outgoing frames. Constant headers are encoded once at load
 * time, because heartbeats go out every interval to every peer.
 */
import { encode } from './codec.js'
import type {
  AbortHeader,
  ByeHeader,
  CancelHeader,
  CommandOutcome,
  CommandPair,
  DoneHeader,
  ReadyHeader,
  RejectReason,
  RejectedHeader,
  ResultHeader,
  TaskHeader,
} from './types.js'

export const HEARTBEAT_FRAME: Buffer = encode({ v: 1, type: 'heartbeat' })
export const STOP_FRAME: Buffer = encode({ v: 1, type: 'stop' })

export function taskFrame(id: string, client: string, replyTo: string, attempt: number): Buffer {
  const header: TaskHeader = { v: 1, type: 'task', id, client, replyTo, attempt }
  return encode(header)
}

export function commandsBody(pairs: readonly CommandPair[]): Buffer {
  return encodeCommands(pairs.length, (i) => pairs[i]![0], (i) => pairs[i]![1])
}

/** The same body, straight from parsed command lines: no `[address, command]` array per command. */
export function commandListBody(commands: readonly { readonly address: string; readonly command: string }[]): Buffer {
  return encodeCommands(commands.length, (i) => commands[i]!.address, (i) => commands[i]!.command)
}

/** Scratch for encodeCommands, reused between calls (it is synchronous). */
let byteLengths = new Uint32Array(2 * 256)

/**
 * Writes `[[address, command], …]` as MessagePack by hand: the client's
 * largest encoding cost, and a general encoder walks arrays it need not.
 * Sized exactly (the body is kept for resends while its batch is in flight),
 * in the shortest form, as msgpackr writes it.
 */
function encodeCommands(n: number, addressAt: (i: number) => string, commandAt: (i: number) => string): Buffer {
  // Each string's UTF-8 length is measured once, for the size and again for its header.
  if (byteLengths.length < 2 * n) byteLengths = new Uint32Array(2 * n)
  let size = arrayHeaderSize(n)
  for (let i = 0; i < n; i++) {
    const address = (byteLengths[2 * i] = Buffer.byteLength(addressAt(i)))
    const command = (byteLengths[2 * i + 1] = Buffer.byteLength(commandAt(i)))
    size += 1 + stringSize(address) + stringSize(command)
  }
  const out = Buffer.allocUnsafe(size)
  let at = writeArrayHeader(out, 0, n)
  for (let i = 0; i < n; i++) {
    out[at++] = 0x92
    at = writeString(out, at, addressAt(i), byteLengths[2 * i]!)
    at = writeString(out, at, commandAt(i), byteLengths[2 * i + 1]!)
  }
  return out
}

function arrayHeaderSize(n: number): number {
  return n < 16 ? 1 : n <= 0xffff ? 3 : 5
}

function stringSize(bytes: number): number {
  return bytes + (bytes < 32 ? 1 : bytes <= 0xff ? 2 : bytes <= 0xffff ? 3 : 5)
}

function writeArrayHeader(out: Buffer, at: number, n: number): number {
  if (n < 16) {
    out[at] = 0x90 | n
    return at + 1
  }
  if (n <= 0xffff) {
    out[at] = 0xdc
    return out.writeUInt16BE(n, at + 1)
  }
  out[at] = 0xdd
  return out.writeUInt32BE(n, at + 1)
}

/** Writes a str header and the `length` UTF-8 bytes of `text`, whose room the caller has reserved. */
function writeString(out: Buffer, at: number, text: string, length: number): number {
  if (length < 32) {
    out[at++] = 0xa0 | length
  } else if (length <= 0xff) {
    out[at++] = 0xd9
    out[at++] = length
  } else if (length <= 0xffff) {
    out[at++] = 0xda
    at = out.writeUInt16BE(length, at)
  } else {
    out[at++] = 0xdb
    at = out.writeUInt32BE(length, at)
  }
  return at + out.write(text, at, 'utf8')
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
 * costs a fraction of a general encoder's walk (msgpackr's packArray was the
 * largest item of a worker's profile at 100 000 commands). Returns undefined
 * when any value is something else, for the general encoder to handle.
 */
function smallOutcomesBody(outcomes: readonly CommandOutcome[]): Buffer | undefined {
  const n = outcomes.length
  // Per outcome at most: fixarray, code, int32 marker and 4 bytes.
  const out = Buffer.allocUnsafe(5 + n * 7)
  let at = writeArrayHeader(out, 0, n)
  for (let i = 0; i < n; i++) {
    const [code, value] = outcomes[i]!
    out[at++] = 0x92
    out[at++] = code
    if (value === null || value === undefined) out[at++] = 0xc0
    else if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) return undefined
    else if (value >= 0 && value < 128) out[at++] = value
    else if (value < 0 && value >= -32) out[at++] = value & 0xff
    else {
      out[at++] = 0xd2
      at = out.writeInt32BE(value, at)
    }
  }
  return out.subarray(0, at)
}

export function rejectedFrame(id: string, client: string, reason: RejectReason, retryable: boolean): Buffer {
  const header: RejectedHeader = { v: 1, type: 'rejected', id, client, reason, retryable }
  return encode(header)
}

export function readyFrame(worker: string, capacity: number): Buffer {
  const header: ReadyHeader = { v: 1, type: 'ready', worker, capacity }
  return encode(header)
}

export function doneFrame(id: string, client: string): Buffer {
  const header: DoneHeader = { v: 1, type: 'done', id, client }
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
