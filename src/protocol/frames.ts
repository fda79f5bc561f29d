/**
 * Builders for outgoing frames. Constant headers are encoded once at load
 * time, because heartbeats go out every interval to every peer.
 */
import { encode } from './codec.js'
import type {
  AbortHeader,
  ByeHeader,
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
  return encode(pairs)
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
  return encode(outcomes)
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

export function byeFrame(worker: string): Buffer {
  const header: ByeHeader = { v: 1, type: 'bye', worker }
  return encode(header)
}
