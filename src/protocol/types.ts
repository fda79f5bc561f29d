/**
 * CGP/1 frame types. Every message is a multipart ZeroMQ message whose first
 * frame is a MessagePack map (the header) and whose optional second frame is a
 * MessagePack array (the body). See docs/PROTOCOL.md.
 */

/** The only protocol version this implementation speaks. */
export const PROTOCOL_VERSION = 1

/** One command of a batch: `[address, command]`. */
export type CommandPair = readonly [address: string, command: string]

/** Outcome codes of one command in a `result` body. */
export const ResultCode = {
  /** The command's response. */
  Ok: 0,
  /** The executor knows no such address or command; value is nil. */
  Unknown: 1,
  /** The command failed; value is the error message. */
  Failed: 2,
  /** The command ran past its time limit and was cancelled; value is nil. */
  Timeout: 3,
  /** The command was cancelled by its client's `abort`; value is nil. */
  Cancelled: 4,
} as const
export type ResultCode = (typeof ResultCode)[keyof typeof ResultCode]

/** One entry of a `result` body: `[code, value]`. */
export type CommandOutcome =
  | readonly [typeof ResultCode.Ok, unknown]
  | readonly [typeof ResultCode.Unknown, null]
  | readonly [typeof ResultCode.Failed, string]
  | readonly [typeof ResultCode.Timeout, null]
  | readonly [typeof ResultCode.Cancelled, null]

/** Why the gateway refused a batch. */
export type RejectReason =
  | 'malformed'
  | 'too-large'
  | 'queue-full'
  | 'shutting-down'
  | 'attempts-exhausted'
  | 'not-allowed'

export const REJECT_REASONS: ReadonlySet<string> = new Set<RejectReason>([
  'malformed',
  'too-large',
  'queue-full',
  'shutting-down',
  'attempts-exhausted',
  'not-allowed',
])

/** client → gateway: one batch of commands. Body: `CommandPair[]`. */
export interface TaskHeader {
  readonly v: 1
  readonly type: 'task'
  readonly id: string
  readonly client: string
  readonly replyTo: string
  readonly attempt: number
  /** The client's CURVE public key (Z85, 40 characters) when its results socket is a CURVE server: workers reply over CURVE with it as the server key. */
  readonly replyKey?: string
}

/** client → gateway: drop my queued batches. No body. */
export interface AbortHeader {
  readonly v: 1
  readonly type: 'abort'
  readonly client: string
}

/** worker → client: the outcome of one batch. Body: `CommandOutcome[]`. */
export interface ResultHeader {
  readonly v: 1
  readonly type: 'result'
  readonly id: string
  readonly client: string
  readonly worker: string
  readonly attempt: number
}

/** gateway → client: a batch that will not run. No body. */
export interface RejectedHeader {
  readonly v: 1
  readonly type: 'rejected'
  readonly id: string
  readonly client: string
  readonly reason: RejectReason
  readonly retryable: boolean
}

/** worker → gateway: I take up to `capacity` batches at once. */
export interface ReadyHeader {
  readonly v: 1
  readonly type: 'ready'
  readonly worker: string
  readonly capacity: number
}

/**
 * Commands of one batch by outcome, in code order: ok, unknown, failed,
 * timeout, cancelled (a `done`'s optional `counts`).
 */
export type OutcomeCounts = readonly [ok: number, unknown: number, failed: number, timeout: number, cancelled: number]

/**
 * Code-0 values of one batch that were check results (maps with an integer
 * `state`), by state: OK, WARNING, CRITICAL, UNKNOWN (this product's `states`
 * extension of `done`; checks.md).
 */
export type StateCounts = readonly [ok: number, warning: number, critical: number, unknown: number]

/** worker → gateway: the result of batch `id` was handed to the reply socket. */
export interface DoneHeader {
  readonly v: 1
  readonly type: 'done'
  readonly id: string
  readonly client: string
  /** Its commands by outcome; optional (protocol.md). */
  readonly counts?: OutcomeCounts
  /** How long the batch ran on the worker, in milliseconds; optional (protocol.md). */
  readonly ms?: number
  /** Its check results by state; this product's extension, which other gateways ignore (docs/PROTOCOL.md). */
  readonly states?: StateCounts
}

/** either way between worker and gateway, when nothing else was sent for one interval. */
export interface HeartbeatHeader {
  readonly v: 1
  readonly type: 'heartbeat'
}

/** gateway → worker: the poison pill. */
export interface StopHeader {
  readonly v: 1
  readonly type: 'stop'
}

/** gateway → worker: cancel the running commands of `client` (its `abort`); their results still go out. */
export interface CancelHeader {
  readonly v: 1
  readonly type: 'cancel'
  readonly client: string
}

/** worker → gateway: I am leaving and what I held is finished. */
export interface ByeHeader {
  readonly v: 1
  readonly type: 'bye'
  readonly worker: string
}

/** What a gateway's intake (PULL) accepts. */
export type IntakeHeader = TaskHeader | AbortHeader
/** What a client's results socket (PULL) accepts. */
export type ClientInboundHeader = ResultHeader | RejectedHeader
/** What a gateway's worker port (ROUTER) accepts from workers. */
export type WorkerToGatewayHeader = ReadyHeader | DoneHeader | HeartbeatHeader | ByeHeader
/** What a worker (DEALER) accepts from the gateway. */
export type GatewayToWorkerHeader = TaskHeader | HeartbeatHeader | StopHeader | CancelHeader

export type Header =
  | TaskHeader
  | AbortHeader
  | ResultHeader
  | RejectedHeader
  | ReadyHeader
  | DoneHeader
  | HeartbeatHeader
  | StopHeader
  | CancelHeader
  | ByeHeader

export type HeaderType = Header['type']
