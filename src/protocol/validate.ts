/**
 * Header validation for every socket that reads CGP/1. Each reader accepts
 * only the header types of its role; everything else is malformed. Validation
 * never throws: it returns a reason, plus whatever routing fields could still
 * be read so that the gateway can answer `rejected` `malformed`.
 */
import { HeaderFields, NOT_A_SCALAR, WireFloat, readHeader, type HeaderKey } from './header-reader.js'
import { Limits } from './limits.js'
import {
  REJECT_REASONS,
  type ClientInboundHeader,
  type GatewayToWorkerHeader,
  type Header,
  type HeaderType,
  type IntakeHeader,
  type WorkerToGatewayHeader,
} from './types.js'
import { isConnectableEndpoint } from './endpoint-syntax.js'
import { isCurveKey } from './curve-key.js'

/** The outcome of validating one header frame. */
export type Validated<H extends Header> =
  | { readonly ok: true; readonly header: H }
  | {
      readonly ok: false
      readonly reason: string
      /** Present when the frame was a map with a usable `replyTo`. */
      readonly replyTo?: string
      /** `id` and `client` when they could be read, so a rejection can name them. */
      readonly id?: string
      readonly client?: string
    }

type FieldKind = 'id' | 'worker' | 'replyTo' | 'count' | 'reason' | 'bool' | 'curveKey' | 'outcomeCounts' | 'stateCounts' | 'ms'

/** Required fields per header type, beyond `v` and `type`. */
const FIELDS: Readonly<Record<HeaderType, readonly (readonly [HeaderKey, FieldKind])[]>> = {
  task: [['id', 'id'], ['client', 'id'], ['replyTo', 'replyTo'], ['attempt', 'count']],
  abort: [['client', 'id']],
  result: [['id', 'id'], ['client', 'id'], ['worker', 'worker'], ['attempt', 'count']],
  rejected: [['id', 'id'], ['client', 'id'], ['reason', 'reason'], ['retryable', 'bool']],
  ready: [['worker', 'worker'], ['capacity', 'count']],
  done: [['id', 'id'], ['client', 'id']],
  heartbeat: [],
  stop: [],
  cancel: [['client', 'id']],
  bye: [['worker', 'worker']],
}

/** Optional fields: checked when present (nil is present, and the wrong type). */
const OPTIONAL: Readonly<Partial<Record<HeaderType, readonly (readonly [HeaderKey, FieldKind])[]>>> = {
  task: [['replyKey', 'curveKey']],
  // `states` is this product's extension (docs/PROTOCOL.md); a peer that sends it must send it well formed.
  done: [['counts', 'outcomeCounts'], ['ms', 'ms'], ['states', 'stateCounts']],
}

/** Whether `value` is a list of exactly `length` non-negative safe integers. */
function isCountList(value: unknown, length: number): boolean {
  if (!Array.isArray(value) || value.length !== length) return false
  const list = value as readonly unknown[]
  for (let i = 0; i < length; i++) {
    const n = list[i]
    if (!Number.isSafeInteger(n) || (n as number) < 0) return false
  }
  return true
}

/** A duration on the wire may be an integer or a float; either way a finite number ≥ 0. */
function durationOf(value: unknown): number | undefined {
  const n = value instanceof WireFloat ? value.value : value
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined
}

function isBoundedString(value: unknown, maxBytes: number): value is string {
  if (typeof value !== 'string' || value.length === 0) return false
  // A UTF-16 unit is at most 3 UTF-8 bytes, so short strings skip the byte count.
  return value.length * 3 <= maxBytes || Buffer.byteLength(value) <= maxBytes
}

function checkField(value: unknown, kind: FieldKind): string | undefined {
  switch (kind) {
    case 'id':
      return isBoundedString(value, Limits.idBytes) ? undefined : `a string of 1-${Limits.idBytes} bytes`
    case 'worker':
      return isBoundedString(value, Limits.workerBytes) ? undefined : `a string of 1-${Limits.workerBytes} bytes`
    case 'replyTo':
      return isBoundedString(value, Limits.replyToBytes) && isConnectableEndpoint(value)
        ? undefined
        : `a connectable endpoint (tcp://host:port or ipc://path) of 1-${Limits.replyToBytes} bytes`
    case 'count':
      return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= Limits.maxCounter
        ? undefined
        : `an integer from 1 to ${Limits.maxCounter}`
    case 'reason':
      return typeof value === 'string' && REJECT_REASONS.has(value) ? undefined : 'a known rejection reason'
    case 'bool':
      return typeof value === 'boolean' ? undefined : 'a boolean'
    case 'curveKey':
      return isCurveKey(value) ? undefined : `a CURVE public key: ${Limits.replyKeyBytes} characters of Z85`
    case 'outcomeCounts':
      return isCountList(value, 5) ? undefined : 'an array of 5 non-negative integers (ok, unknown, failed, timeout, cancelled)'
    case 'stateCounts':
      return isCountList(value, 4) ? undefined : 'an array of 4 non-negative integers (OK, WARNING, CRITICAL, UNKNOWN)'
    case 'ms':
      return durationOf(value) !== undefined ? undefined : 'a finite number of milliseconds ≥ 0'
  }
}

/** A short, log-safe rendering of an untrusted value. */
function preview(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (value === NOT_A_SCALAR) return 'a non-scalar value'
  if (value instanceof WireFloat) return value.toString()
  if (Array.isArray(value)) return `[${value.join(', ')}]`
  return String(value)
}

function readableString(value: unknown, maxBytes: number): string | undefined {
  return isBoundedString(value, maxBytes) ? value : undefined
}

function validateHeader<H extends Header>(frame: Uint8Array, accepted: ReadonlySet<HeaderType>): Validated<H> {
  const read = readHeader(frame, Limits.headerBytes, Limits.headerDepth)
  // A whole map that broke a CGP/1 rule still has readable fields, to say who to answer.
  const fields = read.fields ?? new HeaderFields()
  const fail = (reason: string): Validated<H> => {
    const replyTo = fields.replyTo
    if (!isBoundedString(replyTo, Limits.replyToBytes) || !isConnectableEndpoint(replyTo)) return { ok: false, reason }
    return {
      ok: false,
      reason,
      replyTo,
      id: readableString(fields.id, Limits.idBytes),
      client: readableString(fields.client, Limits.idBytes),
    }
  }
  if (!read.ok) return fail(`header: ${read.reason}`)
  if (fields.v !== 1) return fail(`header "v" must be 1, got ${preview(fields.v)}`)
  const type = fields.type
  if (typeof type !== 'string' || !accepted.has(type as HeaderType)) {
    return fail(`header "type" ${preview(type)} is not accepted here`)
  }
  for (const [key, kind] of FIELDS[type as HeaderType]) {
    const expected = checkField(fields[key], kind)
    if (expected !== undefined) return fail(`header "${key}" must be ${expected}, got ${preview(fields[key])}`)
  }
  for (const [key, kind] of OPTIONAL[type as HeaderType] ?? []) {
    if (fields[key] === undefined) continue
    const expected = checkField(fields[key], kind)
    if (expected !== undefined) return fail(`header "${key}" must be ${expected}, got ${preview(fields[key])}`)
    // The header's type says number: a float on the wire is handed on as one.
    if (kind === 'ms') fields[key] = durationOf(fields[key])
  }
  return { ok: true, header: fields as unknown as H }
}

const INTAKE = new Set<HeaderType>(['task', 'abort'])
const CLIENT_INBOUND = new Set<HeaderType>(['result', 'rejected'])
const FROM_WORKER = new Set<HeaderType>(['ready', 'done', 'heartbeat', 'bye'])
const FROM_GATEWAY = new Set<HeaderType>(['task', 'heartbeat', 'stop', 'cancel'])

/** Validates a header read by a gateway's intake. */
export function validateIntakeHeader(frame: Uint8Array): Validated<IntakeHeader> {
  return validateHeader(frame, INTAKE)
}

/** Validates a header read by a client's results socket. */
export function validateClientInboundHeader(frame: Uint8Array): Validated<ClientInboundHeader> {
  return validateHeader(frame, CLIENT_INBOUND)
}

/** Validates a header that a worker sent to the gateway's worker port. */
export function validateWorkerHeader(frame: Uint8Array): Validated<WorkerToGatewayHeader> {
  return validateHeader(frame, FROM_WORKER)
}

/** Validates a header that the gateway sent to a worker. */
export function validateGatewayHeader(frame: Uint8Array): Validated<GatewayToWorkerHeader> {
  return validateHeader(frame, FROM_GATEWAY)
}

/** Header types that carry a body frame; all others must arrive alone. */
export function hasBody(type: HeaderType): boolean {
  return type === 'task' || type === 'result'
}
