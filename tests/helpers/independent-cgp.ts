/**
 * A from-the-spec CGP/1 toolkit for the independent conformance test.
 *
 * Written from /work/shared/protocol.md alone: it speaks the wire protocol with
 * raw `zeromq` sockets and `msgpackr`, configured the way a foreign
 * implementation would (no records, maps decoded as plain objects). Nothing
 * here comes from the project's src.
 */
import { Packr, Unpackr } from 'msgpackr'
import type { Pull } from 'zeromq'

const packr = new Packr({ useRecords: false })
const unpackr = new Unpackr({ mapsAsObjects: true })

/** MessagePack-encodes one value into a fresh buffer (never a view of a reused one). */
export function enc(value: unknown): Buffer {
  return Buffer.from(packr.pack(value))
}

export type Header = Record<string, unknown>

/** One message as a client sees it on its results PULL. */
export interface Received {
  frames: Buffer[]
  /** Frame 0 decoded, when it is a MessagePack map. */
  header?: Header
  /** Frame 1 decoded, when there is one and it decodes. */
  body?: unknown
  /** Why the message could not be read as CGP/1, if it could not. */
  problem?: string
}

export function decodeMessage(frames: Buffer[]): Received {
  const out: Received = { frames }
  try {
    const header: unknown = unpackr.unpack(frames[0] ?? Buffer.alloc(0))
    if (header === null || typeof header !== 'object' || Array.isArray(header)) {
      out.problem = 'header is not a map'
      return out
    }
    out.header = header as Header
  } catch (error) {
    out.problem = `header does not decode: ${(error as Error).message}`
    return out
  }
  if (frames.length > 1) {
    try {
      out.body = unpackr.unpack(frames[1]!)
    } catch (error) {
      out.problem = `body does not decode: ${(error as Error).message}`
    }
  }
  return out
}

/** Compact description of a message, for assertion messages. */
export function describeMessage(message: Received): string {
  return JSON.stringify({
    frames: message.frames.length,
    header: message.header,
    body: message.body,
    problem: message.problem,
  })
}

/**
 * Receives one message within `ms` milliseconds, or resolves `null` on timeout.
 * Uses the socket's own receive timeout, so no receive is left dangling after
 * a timeout (ZeroMQ v6 allows only one pending receive per socket).
 */
export async function receiveWithin(socket: Pull, ms: number): Promise<Received | null> {
  socket.receiveTimeout = Math.max(1, Math.ceil(ms))
  try {
    const frames = await socket.receive()
    return decodeMessage(frames)
  } catch (error) {
    if ((error as { code?: string }).code === 'EAGAIN') return null
    throw error
  }
}

/**
 * Receives until `done(received)` is true or the deadline passes; returns
 * everything received and whether `done` was reached.
 */
export async function receiveUntil(
  socket: Pull,
  withinMs: number,
  done: (received: Received[]) => boolean,
): Promise<{ received: Received[]; complete: boolean }> {
  const deadline = Date.now() + withinMs
  const received: Received[] = []
  while (!done(received)) {
    const remaining = deadline - Date.now()
    if (remaining <= 0) return { received, complete: false }
    const message = await receiveWithin(socket, remaining)
    if (message === null) return { received, complete: false }
    received.push(message)
  }
  return { received, complete: true }
}

/** Everything that arrives within `ms` milliseconds (an empty array means silence). */
export async function receiveAllWithin(socket: Pull, ms: number): Promise<Received[]> {
  const { received } = await receiveUntil(socket, ms, () => false)
  return received
}

/** Polls `predicate` until it holds; throws with `what` when the deadline passes. */
export async function waitUntil(predicate: () => boolean, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs
  while (!predicate()) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${withinMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Rejects with `what` if `promise` does not settle within `ms`. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** True when no process with this pid exists any more (kill(pid, 0) fails with ESRCH). */
export function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return false
  } catch (error) {
    if ((error as { code?: string }).code === 'ESRCH') return true
    throw error
  }
}

export { seededRandom } from './random.js'

export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1))
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!
}

export function randomBytes(random: () => number, length: number): Buffer {
  const bytes = Buffer.alloc(length)
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256)
  return bytes
}

/** A MessagePack map (up to 15 entries) built from already-encoded values, so values can be raw bytes. */
export function rawMap(entries: ReadonlyArray<readonly [string, Buffer]>): Buffer {
  if (entries.length > 15) throw new Error('rawMap: fixmap only')
  return Buffer.concat([Buffer.from([0x80 | entries.length]), ...entries.flatMap(([key, value]) => [enc(key), value])])
}

/** `levels` nested one-element arrays around nil: [[[...[nil]...]]], as raw bytes. */
export function deeplyNestedArray(levels: number): Buffer {
  return Buffer.concat([Buffer.alloc(levels, 0x91), Buffer.from([0xc0])])
}

/** `levels` nested one-entry maps {"a": {"a": ... nil}}, as raw bytes. */
export function deeplyNestedMap(levels: number): Buffer {
  const one = Buffer.from([0x81, 0xa1, 0x61])
  return Buffer.concat([...Array.from({ length: levels }, () => one), Buffer.from([0xc0])])
}

/** Headers that claim enormous lengths (4 GiB strings, 4 G elements) but carry a few bytes. */
export const hugeClaims: readonly Buffer[] = [
  Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61, 0x62, 0x63]), // str32, 4 GiB
  Buffer.from([0xc6, 0xff, 0xff, 0xff, 0xff, 0x00]), // bin32, 4 GiB
  Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]), // array32, 4 G elements
  Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x76, 0x01]), // map32, 4 G entries
  Buffer.from([0xc9, 0xff, 0xff, 0xff, 0xff, 0x05]), // ext32, 4 GiB
]

/** MessagePack extension values and never-used bytes. */
export const extensionValues: readonly Buffer[] = [
  Buffer.from([0xd4, 0x01, 0x00]), // fixext 1, type 1
  Buffer.from([0xd4, 0xff, 0x00]), // fixext 1, type -1 (timestamp with a bad length)
  Buffer.from([0xd4, 0x00, 0x2a]), // fixext 1, type 0
  Buffer.from([0xd5, 0x7f, 0x01, 0x02]), // fixext 2, type 127
  Buffer.from([0xd6, 0xff, 0x00, 0x00, 0x00, 0x00]), // fixext 4, timestamp 32
  Buffer.from([0xd7, 0x80, 0, 0, 0, 0, 0, 0, 0, 0]), // fixext 8, type -128
  Buffer.from([0xd8, 0x05, ...Array(16).fill(0x41)]), // fixext 16
  Buffer.from([0xc7, 0x03, 0x10, 0x01, 0x02, 0x03]), // ext 8
  Buffer.from([0xc8, 0x00, 0x02, 0x11, 0x01, 0x02]), // ext 16
  Buffer.from([0xc1]), // never used
]
