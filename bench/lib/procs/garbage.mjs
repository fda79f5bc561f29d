// C6 driver: garbage for a gateway, written against CGP/1 with raw zeromq +
// msgpackr (no project code) and a seeded PRNG, so a run can be replayed.
// Sends about <frames> frames, split between the intake (PUSH) and the worker
// port (DEALER with a random routing id), never a valid message:
//   random       random bytes, sometimes several frames
//   truncated    a valid header cut short
//   ext          msgpack extension types (fixext, ext8/16/32, timestamp), as the
//                frame, as a map key, as a known field's value
//   nested       100 nested arrays or maps, as the frame, a field, an unknown key's value
//   claims       array32/map32/str32/bin32/ext32 claiming 0xffffffff
//   wrong-type   one field of a task/abort/ready/done/heartbeat/bye header of the wrong type
//   wrong-port   a well-formed header of the other side's types (ready on the intake, task on the worker port)
//   frames       a valid header with the wrong number of frames (0-length frames too)
//   body         a valid task header whose body is not an array of string pairs
//   oversize     a few messages over <maxSize>: ZeroMQ refuses them and drops the
//                connection, so each is the last message of its socket; a fresh one follows
// Task headers carry this driver's own results endpoint, so `rejected`
// answers are counted by reason. Prints one JSON line at the end.
//   node garbage.mjs <intake> <workerPort> <frames> <seed> <maxSize>
import { randomBytes } from 'node:crypto'
import { Dealer, Pull, Push } from 'zeromq'
import { Packr, Unpackr } from 'msgpackr'

const [intake, workerPort] = process.argv.slice(2, 4)
const [totalFrames, seed, maxSize] = process.argv.slice(4, 7).map(Number)
const packr = new Packr({ useRecords: false })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true })

// mulberry32, the same as bench/lib/chaos-common.mjs (a driver has no project imports).
let state = seed >>> 0
function rand() {
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const int = (n) => Math.floor(rand() * n)
const pick = (xs) => xs[int(xs.length)]
const bytes = (n) => Buffer.from(Array.from({ length: n }, () => int(256)))

// --- where answers come back ---------------------------------------------------
const results = new Pull({ linger: 0 })
await results.bind('tcp://127.0.0.1:*')
const replyTo = results.lastEndpoint
const answers = { rejected: {}, results: 0, other: 0, last: performance.now() }
;(async () => {
  for await (const [header] of results) {
    answers.last = performance.now()
    const h = unpackr.unpack(header)
    if (h.type === 'rejected') answers.rejected[h.reason] = (answers.rejected[h.reason] ?? 0) + 1
    else if (h.type === 'result') answers.results++ // a garbage message ran: should never happen
    else answers.other++
  }
})().catch(() => undefined) // ends when the socket closes

// --- raw msgpack pieces --------------------------------------------------------
const u32 = (tag, n = 0xffffffff) => Buffer.from([tag, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])
const nestedArrays = (depth) => Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0xc0])])
const nestedMaps = (depth) => Buffer.concat([...Array.from({ length: depth }, () => Buffer.from([0x81, 0xa1, 0x6b])), Buffer.from([0xc0])])
const EXT = [
  Buffer.from([0xd4, 0x01, 0x00]), // fixext1
  Buffer.from([0xd5, 0x02, 0x00, 0x00]), // fixext2
  Buffer.from([0xd6, 0xff, 0x00, 0x00, 0x00, 0x01]), // fixext4, type -1: a msgpack timestamp
  Buffer.from([0xd7, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]), // fixext8 type 0 (msgpackr's records)
  Buffer.from([0xd8, 0x72, ...Array(16).fill(0)]), // fixext16
  Buffer.from([0xc7, 0x03, 0x05, 1, 2, 3]), // ext8
  Buffer.from([0xc8, 0x00, 0x02, 0x07, 1, 2]), // ext16
  Buffer.from([0xc9, 0, 0, 0, 1, 0x70, 9]), // ext32
]
const CLAIMS = [0xdd, 0xdf, 0xdb, 0xc6].map((tag) => u32(tag)).concat([Buffer.concat([u32(0xc9), Buffer.from([1])])])
/** A raw msgpack value, to splice into a map where msgpackr cannot write it. */
const raw = (buffer) => ({ raw: buffer })

/** A msgpack map from [key, value] entries; keys and values may be raw(). */
function map(entries) {
  const head = entries.length < 16 ? Buffer.from([0x80 | entries.length]) : Buffer.from([0xde, entries.length >> 8, entries.length & 255])
  const part = (x) => (x?.raw ? x.raw : packr.pack(x))
  return Buffer.concat([head, ...entries.flatMap(([k, v]) => [part(k), part(v)])])
}

// --- headers ---------------------------------------------------------------------
const client = `chaos-c6-${randomBytes(4).toString('hex')}`
const VALID = {
  task: () => ({ v: 1, type: 'task', id: `g${int(1e6)}`, client, replyTo, attempt: 1 }),
  abort: () => ({ v: 1, type: 'abort', client }),
  ready: () => ({ v: 1, type: 'ready', worker: 'chaos-fake', capacity: 4 }),
  done: () => ({ v: 1, type: 'done', id: 'g1', client }),
  heartbeat: () => ({ v: 1, type: 'heartbeat' }),
  bye: () => ({ v: 1, type: 'bye', worker: 'chaos-fake' }),
}
const INTAKE_TYPES = ['task', 'abort']
const WORKER_TYPES = ['ready', 'done', 'heartbeat', 'bye']
const body = packr.pack([['137.72.95.0', 'foo']])

// Values that are wrong for every field kind (ids and endpoints are strings, counts integers).
const WRONG_ANY = [
  null, true, false, [], [1, 2], {}, { a: 1 }, Buffer.from('bin'), -1, 1.5,
  raw(Buffer.from([0xca, 0x3f, 0x80, 0x00, 0x00])), // float32 1.0: an integer to JavaScript, not on the wire
  raw(Buffer.from([0xcf, 255, 255, 255, 255, 255, 255, 255, 255])), // uint64 max
  ...EXT.map(raw), ...CLAIMS.map(raw), raw(nestedArrays(100)), raw(nestedMaps(20)),
]
const WRONG = {
  v: [...WRONG_ANY, 0, 2, '1', 1.0000001, raw(Buffer.from([0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]))],
  type: [...WRONG_ANY, '', 'TASK', 'tasks', 'result', 'rejected', 'stop', 'x'.repeat(300), 7],
  id: [...WRONG_ANY, '', 'x'.repeat(129), 'é'.repeat(65), 42],
  client: [...WRONG_ANY, '', 'x'.repeat(129), 42],
  worker: [...WRONG_ANY, '', 'x'.repeat(129), 42],
  replyTo: [...WRONG_ANY, '', 'http://x', 'tcp://*:5556', 'tcp://127.0.0.1:0', 'tcp://127.0.0.1:99999', 'tcp://127.0.0.1', 'ipc://', `tcp://${'a'.repeat(260)}:1`, 5556],
  attempt: [...WRONG_ANY, 0, 1_000_001, 2 ** 53, '1', 1.5],
  capacity: [...WRONG_ANY, 0, 1_000_001, 2 ** 40, '4'],
}

/** A header of `type` with one field (or v/type) replaced by a wrong value, or dropped. */
function wrongTypeHeader(type) {
  const valid = VALID[type]()
  const keys = Object.keys(valid)
  const key = pick(keys)
  const entries = Object.entries(valid)
  if (rand() < 0.1 && key !== 'v' && key !== 'type') return map(entries.filter(([k]) => k !== key)) // missing field
  return map(entries.map(([k, v]) => [k, k === key ? pick(WRONG[k]) : v]))
}

/** A message type the target's port takes (task/abort on the intake, worker messages on the worker port). */
const typeFor = (target) => pick(target === 'intake' ? INTAKE_TYPES : WORKER_TYPES)
/** The [key, value] fields of a valid header of such a type. */
const validFields = (type) => Object.entries(VALID[type]())

// One generator per kind of garbage: (target) → the frames of one message.
const kinds = {
  random: () => {
    const n = rand() < 0.2 ? 1 + int(4) : 1
    return Array.from({ length: n }, () => bytes(rand() < 0.1 ? int(4096) : int(64)))
  },
  truncated: (target) => {
    const type = typeFor(target)
    const full = packr.pack(VALID[type]())
    const cut = full.subarray(0, int(full.length)) // 0 … length-1 bytes: never the whole header
    return type === 'task' ? [cut, body] : [cut]
  },
  ext: (target) => {
    const ext = pick(EXT)
    const type = typeFor(target)
    const valid = validFields(type)
    switch (int(4)) {
      case 0: return [ext]
      // An extension as a key (an unknown key, so it may be skipped), plus a trailing byte so the message is still bad.
      case 1: return [Buffer.concat([map([[raw(ext), 1], ...valid]), Buffer.from([0xc0])])]
      case 2: { // a known field holding an extension value
        const key = pick(valid.map(([k]) => k))
        return [map(valid.map(([k, v]) => [k, k === key ? raw(ext) : v]))]
      }
      default: return [map([...valid.map(([k, v]) => [k, k === 'v' ? 2 : v]), ['x', raw(ext)]])] // ext under an unknown key; v wrong
    }
  },
  nested: (target) => {
    const type = typeFor(target)
    const valid = validFields(type)
    switch (int(3)) {
      case 0: return [rand() < 0.5 ? nestedArrays(100) : nestedMaps(100)]
      case 1: return [map([...valid, ['deep', raw(nestedArrays(100))]])] // an unknown key, but too deep
      default: return [map(valid.map(([k, v]) => [k, k === 'v' ? raw(nestedArrays(100)) : v]))]
    }
  },
  claims: (target) => {
    const claim = pick(CLAIMS)
    const type = typeFor(target)
    const valid = validFields(type)
    switch (int(3)) {
      case 0: return [claim]
      case 1: return [Buffer.concat([u32(0xdf), packr.pack('v'), packr.pack(1)])] // map32 of 0xffffffff entries holding one
      default: return [map([...valid, ['big', raw(claim)]])]
    }
  },
  'wrong-type': (target) => {
    const type = typeFor(target)
    return type === 'task' ? [wrongTypeHeader(type), body] : [wrongTypeHeader(type)]
  },
  'wrong-port': (target) => {
    const type = pick(target === 'intake' ? WORKER_TYPES : INTAKE_TYPES)
    return type === 'task' ? [packr.pack(VALID.task()), body] : [packr.pack(VALID[type]())]
  },
  frames: (target) => {
    if (target === 'intake') {
      switch (int(4)) {
        case 0: return [packr.pack(VALID.task())] // no body
        case 1: return [packr.pack(VALID.task()), body, body] // one too many
        case 2: return [packr.pack(VALID.abort()), Buffer.alloc(0)] // abort with a body
        default: return [Buffer.alloc(0), ...Array.from({ length: int(8) }, () => Buffer.alloc(0))] // empty frames
      }
    }
    const type = pick(WORKER_TYPES)
    return rand() < 0.3 ? [Buffer.alloc(0)] : [packr.pack(VALID[type]()), ...Array.from({ length: 1 + int(5) }, () => (rand() < 0.5 ? body : Buffer.alloc(0)))]
  },
  body: () => {
    const bodies = [
      () => bytes(int(64)),
      () => packr.pack([]),
      () => packr.pack([['137.72.95.0']]),
      () => packr.pack([[1, 2]]),
      () => packr.pack([['137.72.95.0', 'foo', 'bar']]),
      () => packr.pack({ a: 'b' }),
      () => packr.pack('137.72.95.0:foo'),
      () => Buffer.concat([Buffer.from([0x91, 0x92]), pick(EXT), packr.pack('foo')]),
      () => nestedArrays(100),
      () => pick(CLAIMS),
      () => Buffer.concat([packr.pack([['137.72.95.0', 'foo']]), Buffer.from([0xc0])]), // trailing bytes
      () => Buffer.alloc(0),
    ]
    return [packr.pack(VALID.task()), pick(bodies)()]
  },
}
const INTAKE_KINDS = Object.keys(kinds)
const WORKER_KINDS = Object.keys(kinds).filter((k) => k !== 'body') // a body is a task's

// --- sockets ---------------------------------------------------------------------
const sent = {
  intake: { messages: 0, frames: 0, oversize: 0, refusedSeen: 0, sockets: 1, kinds: {} },
  workers: { messages: 0, frames: 0, oversize: 0, refusedSeen: 0, sockets: 1, kinds: {} },
}
function open(target) {
  const socket = target === 'intake'
    ? new Push({ linger: 2000 })
    : new Dealer({ linger: 2000, routingId: `chaos-${randomBytes(6).toString('hex')}` })
  socket.connect(target === 'intake' ? intake : workerPort)
  let dropped
  const disconnected = new Promise((resolve) => (dropped = resolve))
  socket.events.on('disconnect', () => dropped())
  return { socket, disconnected }
}
const sockets = { intake: open('intake'), workers: open('workers') }

async function send(target, kind, frames) {
  await sockets[target].socket.send(frames)
  const s = sent[target]
  s.messages++
  s.frames += frames.length
  s.kinds[kind] = (s.kinds[kind] ?? 0) + 1
}

/** A message over the limit, then a fresh socket: the gateway's ZeroMQ drops the old connection. */
async function oversize(target) {
  const old = sockets[target]
  const header = target === 'intake' ? packr.pack(VALID.task()) : packr.pack(VALID.ready())
  await old.socket.send(rand() < 0.5 ? [header, bytes(maxSize + 1 + int(4096))] : [bytes(maxSize + 1 + int(4096))])
  sent[target].oversize++
  // Everything before it in the stream has been read by then; wait to see the drop (or give up).
  let timer
  const seen = await Promise.race([old.disconnected.then(() => true), new Promise((r) => (timer = setTimeout(r, 3000, false)))])
  clearTimeout(timer)
  if (seen) sent[target].refusedSeen++
  old.socket.linger = 0 // what is left is the refused message
  old.socket.close()
  sockets[target] = open(target)
  sent[target].sockets++
}

// A few oversize messages, spread evenly over the run and over both targets.
const OVERSIZE = totalFrames >= 50_000 ? 10 : 4
const oversizeAt = new Set(Array.from({ length: OVERSIZE }, (_, i) => Math.floor(((i + 0.5) * totalFrames) / OVERSIZE)))
const t0 = performance.now()
let frames = 0
let next = [...oversizeAt].sort((a, b) => a - b)
while (frames < totalFrames) {
  const target = rand() < 0.5 ? 'intake' : 'workers'
  if (next.length > 0 && frames >= next[0]) {
    next.shift()
    await oversize(next.length % 2 === 0 ? 'intake' : 'workers')
    continue
  }
  const kind = pick(target === 'intake' ? INTAKE_KINDS : WORKER_KINDS)
  const message = kinds[kind](target)
  await send(target, kind, message)
  frames += message.length
}
const sendMs = performance.now() - t0

// Answers (`rejected` for tasks with a readable replyTo) trail the sends: wait for 1 s of quiet.
while (performance.now() - Math.max(answers.last, t0 + sendMs) < 1000) await new Promise((r) => setTimeout(r, 100))
for (const { socket } of Object.values(sockets)) socket.close() // linger: the last messages still leave
results.close()
console.log(JSON.stringify({ seed, replyTo, sent, answers: { rejected: answers.rejected, results: answers.results, other: answers.other }, sendMs }))
