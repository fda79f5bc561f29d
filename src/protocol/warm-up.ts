/**
 * Runs every encode, scan and validation path at start-up. V8 compiles a
 * function lazily on its first call and optimises it only after many; a
 * fresh gateway or worker otherwise pays that on its first burst of batches
 * (profiled: ~30 ms of CPU per process for the seed's 32 batches).
 */
import { decodeTrusted } from './codec.js'
import {
  HEARTBEAT_FRAME,
  abortFrame,
  byeFrame,
  commandsBody,
  doneFrame,
  type DoneReport,
  outcomesBody,
  readyFrame,
  rejectedFrame,
  resultFrame,
  taskFrame,
} from './frames.js'
import { scanCommandPairs } from './msgpack-scan.js'
import type { CommandOutcome } from './types.js'
import {
  validateClientInboundHeader,
  validateGatewayHeader,
  validateIntakeHeader,
  validateWorkerHeader,
} from './validate.js'

let warmed = false

/**
 * `frame` as a socket hands a received frame over: a Uint8Array given
 * Buffer's prototype after it was made, as Node's C++ side builds the Buffers
 * that zeromq.js receives. V8 gives those another hidden class than a Buffer
 * made in JavaScript, so readers warmed up on JavaScript-made Buffers were
 * deoptimised ("wrong map") by the first real frame and optimised again
 * during the first run after a start. Warm-ups feed readers these instead.
 */
export function asReceived(frame: Uint8Array): Buffer {
  const copy = new Uint8Array(frame.length)
  copy.set(frame)
  return Object.setPrototypeOf(copy, Buffer.prototype) as Buffer
}

/** Exercises the codec `rounds` times, once per process; later calls do nothing. */
export function warmUpCodec(rounds = 1): void {
  if (warmed) return
  warmed = true
  const frames = sampleFrames()
  // The readers need to have run each shape once, not hundreds of times: the larger bodies go every 16th round.
  for (let i = 0; i < rounds; i++) warmUpRound(frames, i % 16 === 0)
}

type SampleFrames = ReturnType<typeof sampleFrames>

/**
 * Ids and endpoints as long as real ones: a run's client id is a 36-byte
 * UUID and a replyTo a full endpoint, which take MessagePack's str8 tag and
 * miss the reader's table of short known words. Warmed up on short strings
 * only, the readers were deoptimised by the first real header ("out of
 * bounds", "insufficient type feedback") and optimised again mid-run.
 */
const CLIENT = '00000000-0000-4000-8000-000000000000'
const REPLY_TO = 'tcp://127.0.0.1:65535'
const WORKER = 'gw000000-w1-00000000'

const ONE_OUTCOME: CommandOutcome[] = [[0, 1]]
const SIXTEEN_OUTCOMES: CommandOutcome[] = Array.from({ length: 16 }, (_, i): CommandOutcome => [0, i * 1000])

/** `n` commands of the kinds a commands file has: IPv4, IPv6 and host-name addresses. */
function samplePairs(n: number): [string, string][] {
  const addresses = ['10.0.0.1', '192.168.100.200', '2001:db8::1', 'device-1.example.org']
  return Array.from({ length: n }, (_, i) => [addresses[i % addresses.length]!, i % 2 === 0 ? 'foo' : 'warm-up'])
}

/**
 * The `done` reports workers send about a batch of `commands`: none (other
 * workers), counts and a float `ms` (this product's), and states too (checks).
 * The counts add up, so receivers warm up the path that adds them, not the one that refuses them. @internal
 */
export function doneReports(commands: number): readonly [none: undefined, counted: DoneReport, checked: DoneReport] {
  return [undefined, { counts: [commands, 0, 0, 0, 0], ms: 1.25 }, { counts: [commands, 0, 0, 0, 0], ms: 12, states: [commands, 0, 0, 0] }]
}

/** Frames of each kind, encoded as senders encode them and shaped as receivers get them. @internal */
export function sampleFrames() {
  return {
    tasks: [taskFrame('1', CLIENT, REPLY_TO, 1), taskFrame('65536', CLIENT, REPLY_TO, 2)].map(asReceived),
    // A fixarray, and the array16 that every batch of 16 or more takes.
    bodies: [1, 16].map((n) => asReceived(commandsBody(samplePairs(n)))),
    abort: asReceived(abortFrame(CLIENT)),
    heartbeat: asReceived(HEARTBEAT_FRAME),
    ready: asReceived(readyFrame(WORKER, 64)),
    done: doneReports(256).map((report) => asReceived(doneFrame('65536', CLIENT, report))),
    bye: asReceived(byeFrame(WORKER)),
    result: asReceived(resultFrame('65536', CLIENT, WORKER, 1)),
    rejected: asReceived(rejectedFrame('65536', CLIENT, 'queue-full', true)),
    outcomes: [outcomesBody(ONE_OUTCOME), outcomesBody(SIXTEEN_OUTCOMES)].map(asReceived),
  }
}

function warmUpRound(f: SampleFrames, large: boolean): void {
  // The encoders too: every sender runs them per batch.
  taskFrame('1', CLIENT, REPLY_TO, 1)
  commandsBody(samplePairs(large ? 16 : 1))
  outcomesBody(large ? SIXTEEN_OUTCOMES : ONE_OUTCOME)
  for (const task of f.tasks) {
    validateIntakeHeader(task)
    validateGatewayHeader(task)
  }
  validateIntakeHeader(f.abort)
  validateGatewayHeader(f.heartbeat)
  for (const body of large ? f.bodies : f.bodies.slice(0, 1)) {
    scanCommandPairs(body, 10_000)
    decodeTrusted(body)
  }
  validateWorkerHeader(f.ready)
  for (const done of f.done) validateWorkerHeader(done)
  validateWorkerHeader(f.bye)
  validateClientInboundHeader(f.result)
  validateClientInboundHeader(f.rejected)
  for (const outcomes of large ? f.outcomes : f.outcomes.slice(0, 1)) decodeTrusted(outcomes)
}
