import { describe, expect, it } from 'vitest'
import {
  validateClientInboundHeader,
  validateGatewayHeader,
  validateIntakeHeader,
  validateWorkerHeader,
  type Validated,
} from '../../src/protocol/validate.js'
import { encode } from '../../src/protocol/codec.js'
import { HeaderFields } from '../../src/protocol/header-reader.js'
import {
  HEARTBEAT_FRAME,
  STOP_FRAME,
  abortFrame,
  byeFrame,
  cancelFrame,
  doneFrame,
  readyFrame,
  rejectedFrame,
  resultFrame,
  taskFrame,
} from '../../src/protocol/frames.js'
import type { Header, HeaderType, RejectReason } from '../../src/protocol/types.js'
import {
  bin8,
  bytes,
  fixmap,
  fixstr,
  float32,
  float64,
  int64,
  map16,
  map32,
  str16,
  str32,
  str8,
  uint16,
  uint64,
  uint8,
} from './support/raw-msgpack.js'

type Validator = (frame: Uint8Array) => Validated<Header>

const REPLY_TO = 'tcp://127.0.0.1:5556'

/** One valid header per type, as protocol.md lists them. */
const VALID: Readonly<Record<HeaderType, Readonly<Record<string, unknown>>>> = {
  task: { v: 1, type: 'task', id: '17', client: 'client-a', replyTo: REPLY_TO, attempt: 1 },
  abort: { v: 1, type: 'abort', client: 'client-a' },
  result: { v: 1, type: 'result', id: '17', client: 'client-a', worker: 'w-1', attempt: 2 },
  rejected: { v: 1, type: 'rejected', id: '17', client: 'client-a', reason: 'queue-full', retryable: true },
  ready: { v: 1, type: 'ready', worker: 'w-1', capacity: 4 },
  done: { v: 1, type: 'done', id: '17', client: 'client-a' },
  heartbeat: { v: 1, type: 'heartbeat' },
  stop: { v: 1, type: 'stop' },
  cancel: { v: 1, type: 'cancel', client: 'client-a' },
  bye: { v: 1, type: 'bye', worker: 'w-1' },
}

/** The same headers as our frame builders produce them. */
const BUILT: Readonly<Record<HeaderType, Buffer>> = {
  task: taskFrame('17', 'client-a', REPLY_TO, 1),
  abort: abortFrame('client-a'),
  result: resultFrame('17', 'client-a', 'w-1', 2),
  rejected: rejectedFrame('17', 'client-a', 'queue-full', true),
  ready: readyFrame('w-1', 4),
  done: doneFrame('17', 'client-a'),
  heartbeat: HEARTBEAT_FRAME,
  stop: STOP_FRAME,
  cancel: cancelFrame('client-a'),
  bye: byeFrame('w-1'),
}

const TYPES = Object.keys(VALID) as HeaderType[]

/** Each reading socket and the header types protocol.md lets it receive. */
const ROLES: readonly { role: string; validate: Validator; accepts: readonly HeaderType[] }[] = [
  { role: 'the gateway intake', validate: validateIntakeHeader, accepts: ['task', 'abort'] },
  { role: "the client's results socket", validate: validateClientInboundHeader, accepts: ['result', 'rejected'] },
  { role: 'the gateway worker port', validate: validateWorkerHeader, accepts: ['ready', 'done', 'heartbeat', 'bye'] },
  { role: 'a worker', validate: validateGatewayHeader, accepts: ['task', 'heartbeat', 'stop', 'cancel'] },
]

/** A validator that reads `type`. */
function readerOf(type: HeaderType): Validator {
  const role = ROLES.find((r) => r.accepts.includes(type))
  if (role === undefined) throw new Error(`no role reads ${type}`)
  return role.validate
}

const MISSING = Symbol('missing')

/** `VALID[type]` with `changes` applied; a `MISSING` value deletes the key. */
function header(type: HeaderType, changes: Record<string, unknown> = {}): Buffer {
  const fields: Record<string, unknown> = { ...VALID[type] }
  for (const [key, value] of Object.entries(changes)) {
    if (value === MISSING) delete fields[key]
    else fields[key] = value
  }
  return encode(fields)
}

describe.each(ROLES)('$role', ({ validate, accepts }) => {
  const own = accepts.map((type) => ({ type }))
  const foreign = TYPES.filter((type) => !accepts.includes(type)).map((type) => ({ type }))

  it.each(own)('accepts a $type header built by frames.ts', ({ type }) => {
    expect(validate(BUILT[type])).toEqual({ ok: true, header: VALID[type] })
  })

  it.each(own)('ignores unknown extra keys on a $type header', ({ type }) => {
    const result = validate(header(type, { future: { nested: [1, 'two', null] }, 'x-trace': 'abc', zz: 9 }))
    expect(result).toMatchObject({ ok: true, header: VALID[type] })
  })

  it.each(foreign)('rejects a $type header, which belongs to another role', ({ type }) => {
    const result = validate(BUILT[type])
    expect(result.ok).toBe(false)
    expect(result).toMatchObject({ reason: `header "type" "${type}" is not accepted here` })
  })
})

describe('a header that is not a map', () => {
  it.each([
    { what: 'an array', frame: encode([1, 'task']) },
    { what: 'a string', frame: encode('task') },
    { what: 'an integer', frame: encode(1) },
    { what: 'nil', frame: encode(null) },
    { what: 'a boolean', frame: encode(true) },
    { what: 'bin bytes', frame: encode(Buffer.from('{"v":1}')) },
  ])('is rejected when it is $what', ({ frame }) => {
    for (const { validate } of ROLES) expect(validate(frame)).toEqual({ ok: false, reason: 'header: not a map' })
  })

  it.each([
    { what: 'an empty frame', frame: Buffer.alloc(0) },
    { what: 'a truncated map', frame: taskFrame('1', 'c', REPLY_TO, 1).subarray(0, 20) },
    { what: 'a map followed by trailing bytes', frame: bytes(taskFrame('1', 'c', REPLY_TO, 1), 0x00) },
    { what: 'a map whose known field holds an extension value cut short', frame: bytes(fixmap(1), fixstr('v'), 0xd6, 0xff, 0, 0) },
    { what: 'JSON text', frame: Buffer.from(JSON.stringify(VALID.task)) },
    { what: 'over 64 KiB', frame: header('task', { padding: 'x'.repeat(64 * 1024) }) },
    { what: 'nested deeper than 8', frame: header('task', { deep: [[[[[[[[[1]]]]]]]]] }) },
  ])('is rejected without reply routing when it is $what', ({ frame }) => {
    for (const { validate } of ROLES) {
      const result = validate(frame)
      expect(result).toEqual({ ok: false, reason: expect.stringMatching(/^header: /) })
    }
  })
})

describe('a header whose version is not 1', () => {
  it.each([
    { what: '0', v: 0 },
    { what: '2', v: 2 },
    { what: '-1', v: -1 },
    { what: 'the string "1"', v: '1' },
    { what: 'nil', v: null },
    { what: 'true', v: true },
    { what: '1.5', v: 1.5 },
    { what: 'missing', v: MISSING },
  ])('is rejected when v is $what', ({ v }) => {
    for (const type of TYPES) {
      const result = readerOf(type)(header(type, { v }))
      expect(result.ok).toBe(false)
      expect(result).toMatchObject({ reason: expect.stringMatching(/^header "v" must be 1/) })
    }
  })
})

describe('a header whose type is unknown', () => {
  it.each([
    { what: '"tasks"', type: 'tasks' },
    { what: '"TASK"', type: 'TASK' },
    { what: 'empty', type: '' },
    { what: '"constructor"', type: 'constructor' },
    { what: '"__proto__"', type: '__proto__' },
    { what: 'an integer', type: 1 },
    { what: 'nil', type: null },
    { what: 'bin bytes', type: Buffer.from('task') },
    { what: 'missing', type: MISSING },
  ])('is rejected by every reader when type is $what', ({ type }) => {
    for (const { validate } of ROLES) {
      const result = validate(header('task', { type }))
      expect(result.ok).toBe(false)
      expect(result).toMatchObject({ reason: expect.stringMatching(/^header "type" .* is not accepted here$/) })
    }
  })
})

type FieldKind = 'id' | 'worker' | 'replyTo' | 'count' | 'reason' | 'bool'

/** Required fields of each type beyond v and type (protocol.md). */
const REQUIRED: Readonly<Record<HeaderType, readonly (readonly [string, FieldKind])[]>> = {
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

// UTF-8 sizes: 'é' is 2 bytes, '€' 3, '😀' 4 (two UTF-16 units).

/** Values a field of each kind must refuse. */
const BAD: Readonly<Record<FieldKind, readonly { what: string; value: unknown }[]>> = {
  id: [
    { what: 'missing', value: MISSING },
    { what: 'an integer', value: 7 },
    { what: 'nil', value: null },
    { what: 'a boolean', value: true },
    { what: 'an array', value: ['a'] },
    { what: 'a map', value: { a: 'b' } },
    { what: 'bin bytes', value: Buffer.from('abc') },
    { what: 'empty', value: '' },
    { what: '129 ASCII bytes', value: 'x'.repeat(129) },
    { what: "130 bytes of 65 'é'", value: 'é'.repeat(65) },
    { what: "129 bytes of 43 '€'", value: '€'.repeat(43) },
    { what: '132 bytes of 33 emoji', value: '😀'.repeat(33) },
  ],
  // limits.ts bounds worker ids like batch ids (protocol.md gives no bound).
  worker: [
    { what: 'missing', value: MISSING },
    { what: 'an integer', value: 7 },
    { what: 'nil', value: null },
    { what: 'bin bytes', value: Buffer.from('w-1') },
    { what: 'empty', value: '' },
    { what: '129 ASCII bytes', value: 'w'.repeat(129) },
    { what: "130 bytes of 65 'é'", value: 'é'.repeat(65) },
  ],
  replyTo: [
    { what: 'missing', value: MISSING },
    { what: 'an integer', value: 5556 },
    { what: 'nil', value: null },
    { what: 'bin bytes', value: Buffer.from(REPLY_TO) },
    { what: 'empty', value: '' },
    { what: 'a wildcard host (tcp://*:5556)', value: 'tcp://*:5556' },
    { what: 'a wildcard port (tcp://127.0.0.1:*)', value: 'tcp://127.0.0.1:*' },
    { what: 'http://x', value: 'http://x' },
    { what: 'a tcp host without a port', value: 'tcp://host' },
    { what: 'a tcp port without a host', value: 'tcp://:5556' },
    { what: 'port 0', value: 'tcp://host:0' },
    { what: 'port 65536', value: 'tcp://host:65536' },
    { what: 'an empty ipc path', value: 'ipc://' },
    { what: 'inproc', value: 'inproc://results' },
    { what: 'a trailing newline', value: `${REPLY_TO}\n` },
    { what: '257 ASCII bytes', value: `ipc://${'a'.repeat(251)}` },
    { what: "257 bytes with 'é'", value: `ipc://${'é'.repeat(125)}a` },
  ],
  count: [
    { what: 'missing', value: MISSING },
    { what: '0', value: 0 },
    { what: 'negative', value: -1 },
    { what: '1.5', value: 1.5 },
    { what: '1_000_001', value: 1_000_001 },
    { what: 'NaN', value: Number.NaN },
    { what: 'Infinity', value: Number.POSITIVE_INFINITY },
    { what: 'the string "1"', value: '1' },
    { what: 'nil', value: null },
    { what: 'a boolean', value: true },
  ],
  reason: [
    { what: 'missing', value: MISSING },
    { what: 'an unknown reason', value: 'bored' },
    { what: 'a known reason in upper case', value: 'MALFORMED' },
    { what: 'empty', value: '' },
    { what: 'an integer', value: 1 },
    { what: 'bin bytes', value: Buffer.from('malformed') },
  ],
  bool: [
    { what: 'missing', value: MISSING },
    { what: 'the string "true"', value: 'true' },
    { what: 'the integer 1', value: 1 },
    { what: 'the integer 0', value: 0 },
    { what: 'nil', value: null },
  ],
}

/** Values at the edges of what a field of each kind must accept. */
const GOOD: Readonly<Record<FieldKind, readonly { what: string; value: unknown }[]>> = {
  id: [
    { what: 'one byte', value: 'x' },
    { what: '128 ASCII bytes', value: 'x'.repeat(128) },
    { what: "128 bytes of 64 'é'", value: 'é'.repeat(64) },
    { what: "126 bytes of 42 '€'", value: '€'.repeat(42) },
    { what: '128 bytes of 32 emoji', value: '😀'.repeat(32) },
    { what: 'a UUID', value: '0f8fad5b-d9cb-469f-a165-70867728950e' },
  ],
  worker: [
    { what: 'one byte', value: 'w' },
    { what: '128 ASCII bytes', value: 'w'.repeat(128) },
  ],
  replyTo: [
    { what: 'an IPv4 tcp endpoint', value: 'tcp://10.1.2.3:5556' },
    { what: 'a bracketed IPv6 tcp endpoint', value: 'tcp://[::1]:5556' },
    { what: 'a host name tcp endpoint', value: 'tcp://client-7.example.org:65535' },
    { what: 'an ipc endpoint', value: 'ipc:///tmp/cgp-results.sock' },
    { what: '256 ASCII bytes', value: `ipc://${'a'.repeat(250)}` },
    { what: "256 bytes with 'é'", value: `ipc://${'é'.repeat(125)}` },
  ],
  count: [
    { what: '1', value: 1 },
    { what: '1_000_000', value: 1_000_000 },
  ],
  reason: (['malformed', 'too-large', 'queue-full', 'shutting-down', 'attempts-exhausted', 'not-allowed'] satisfies RejectReason[]).map(
    (reason) => ({ what: reason, value: reason }),
  ),
  bool: [
    { what: 'true', value: true },
    { what: 'false', value: false },
  ],
}

const FIELD_CASES = TYPES.flatMap((type) => REQUIRED[type].map(([field, kind]) => ({ type, field, kind })))

describe.each(FIELD_CASES)('the $field field of a $type header', ({ type, field, kind }) => {
  const validate = readerOf(type)

  it.each(BAD[kind])('is rejected when it is $what', ({ value }) => {
    const result = validate(header(type, { [field]: value }))
    expect(result.ok).toBe(false)
    expect(result).toMatchObject({ reason: expect.stringContaining(`header "${field}" must be`) })
  })

  it.each(GOOD[kind])('is accepted when it is $what', ({ value }) => {
    const result = validate(header(type, { [field]: value }))
    expect(result).toEqual({ ok: true, header: { ...VALID[type], [field]: value } })
  })
})

describe('a malformed header from which a reply can still be routed', () => {
  it('carries replyTo, id and client when only attempt is bad', () => {
    const result = validateIntakeHeader(header('task', { attempt: 0 }))
    expect(result).toMatchObject({ ok: false, replyTo: REPLY_TO, id: '17', client: 'client-a' })
  })

  it('carries replyTo when the version is wrong', () => {
    expect(validateIntakeHeader(header('task', { v: 2 }))).toMatchObject({ ok: false, replyTo: REPLY_TO, id: '17' })
  })

  it('carries replyTo when the type is unknown', () => {
    expect(validateIntakeHeader(header('task', { type: 'tsak' }))).toMatchObject({ ok: false, replyTo: REPLY_TO })
  })

  it('carries replyTo when the type belongs to another role', () => {
    const result = validateIntakeHeader(encode({ ...VALID.result, replyTo: REPLY_TO }))
    expect(result).toMatchObject({ ok: false, replyTo: REPLY_TO, id: '17', client: 'client-a' })
  })

  it('leaves out an id that cannot be read but keeps the client', () => {
    const result = validateIntakeHeader(header('task', { id: 'x'.repeat(129) }))
    expect(result).toMatchObject({ ok: false, replyTo: REPLY_TO, client: 'client-a' })
    expect(result.ok === false && result.id).toBeUndefined()
  })

  it('leaves out a client that is not a string but keeps the id', () => {
    const result = validateIntakeHeader(header('task', { client: 42 }))
    expect(result).toMatchObject({ ok: false, replyTo: REPLY_TO, id: '17' })
    expect(result.ok === false && result.client).toBeUndefined()
  })
})

describe('a malformed header whose replyTo is unusable', () => {
  it.each([
    { what: 'missing', replyTo: MISSING },
    { what: 'a wildcard', replyTo: 'tcp://*:5556' },
    { what: 'not tcp or ipc', replyTo: 'http://x' },
    { what: 'without a port', replyTo: 'tcp://host' },
    { what: 'over 256 bytes', replyTo: `ipc://${'a'.repeat(251)}` },
    { what: 'bin bytes', replyTo: Buffer.from(REPLY_TO) },
  ])('has no replyTo when replyTo is $what', ({ replyTo }) => {
    const result = validateIntakeHeader(header('task', { attempt: 0, replyTo }))
    expect(result.ok).toBe(false)
    expect(result).not.toHaveProperty('replyTo')
  })
})

/** One minimal, well-formed value of each extension tag (the timestamp, type -1, among them). */
const EXTENSIONS = [
  { tag: 'fixext 1 (0xd4)', value: [0xd4, 0x01, 0x00] },
  { tag: 'fixext 2 (0xd5)', value: [0xd5, 0x01, 0x00, 0x00] },
  { tag: 'fixext 4, the 32-bit timestamp (0xd6, type -1)', value: [0xd6, 0xff, 0x00, 0x00, 0x00, 0x01] },
  { tag: 'fixext 8, the 64-bit timestamp (0xd7, type -1)', value: [0xd7, 0xff, ...Array<number>(8).fill(0)] },
  { tag: 'fixext 16 (0xd8)', value: [0xd8, 0x01, ...Array<number>(16).fill(0)] },
  { tag: 'ext 8 (0xc7)', value: [0xc7, 0x03, 0x05, 0xaa, 0xbb, 0xcc] },
  { tag: 'ext 16 (0xc8)', value: [0xc8, 0x00, 0x01, 0x05, 0xaa] },
  { tag: 'ext 32, the 96-bit timestamp (0xc9, type -1)', value: [0xc9, 0x00, 0x00, 0x00, 0x0c, 0xff, ...Array<number>(12).fill(0)] },
]

/** Where in a header an extension can sit; each builds the 4-entry `abort` map around it. */
const PLACES: readonly { where: string; entry: (ext: number[]) => (number | number[] | Buffer)[] }[] = [
  { where: 'as the value of an unknown key', entry: (ext) => [fixstr('at'), ext] },
  { where: 'inside an array under an unknown key', entry: (ext) => [fixstr('x'), 0x92, 0x01, ext] },
  { where: 'inside a map under an unknown key', entry: (ext) => [fixstr('x'), fixmap(1), fixstr('y'), ext] },
  { where: 'under a non-string key', entry: (ext) => [0x07, ext] },
  { where: 'as a key', entry: (ext) => [ext, 0x01] },
]

describe('a header holding an extension type anywhere (CGP/1: malformed)', () => {
  const cases = EXTENSIONS.flatMap(({ tag, value }) => PLACES.map(({ where, entry }) => ({ tag, where, value, entry })))

  it.each(cases)('is rejected for $tag $where', ({ value, entry }) => {
    const frame = bytes(fixmap(4), fixstr('v'), 1, fixstr('type'), fixstr('abort'), fixstr('client'), fixstr('client-a'), ...entry(value))
    for (const { validate } of ROLES) {
      expect(validate(frame)).toEqual({ ok: false, reason: 'header: extension types are not allowed' })
    }
  })

  it.each(EXTENSIONS)('is rejected for $tag as the value of a known field', ({ value }) => {
    const frame = bytes(fixmap(3), fixstr('v'), 1, fixstr('type'), fixstr('abort'), fixstr('client'), value)
    expect(validateIntakeHeader(frame)).toEqual({ ok: false, reason: 'header: extension types are not allowed' })
  })

  it.each(EXTENSIONS)('still names replyTo, id and client of a task holding $tag, so it can be answered malformed', ({ value }) => {
    const entries = Object.entries(VALID.task).flatMap(([key, field]) => [fixstr(key), encode(field)])
    const frame = bytes(fixmap(7), ...entries, fixstr('trace'), value)
    expect(validateIntakeHeader(frame)).toEqual({
      ok: false,
      reason: 'header: extension types are not allowed',
      replyTo: REPLY_TO,
      id: '17',
      client: 'client-a',
    })
  })

  it.each([
    { what: 'cut short', value: [0xd6, 0xff, 0x00] },
    { what: 'an ext32 claiming 0xffffffff bytes', value: [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00] },
    { what: 'an ext8 claiming more bytes than follow', value: [0xc7, 0x09, 0x01, 0x00] },
  ])('is rejected as broken MessagePack, with nobody to answer, when the extension is $what', ({ value }) => {
    const frame = bytes(fixmap(4), fixstr('v'), 1, fixstr('type'), fixstr('task'), fixstr('replyTo'), fixstr(REPLY_TO), fixstr('x'), value)
    const result = validateIntakeHeader(frame)
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/^header: /) })
    expect(result.ok === false && result.reason).not.toBe('header: extension types are not allowed')
  })
})

describe('a header map with keys that are not strings', () => {
  it('does not let an integer key stand in for a string field', () => {
    // {v: 1, type: 'abort', 0: 'client-a'}: the client field is missing.
    const frame = bytes(fixmap(3), fixstr('v'), 1, fixstr('type'), fixstr('abort'), 0x00, fixstr('client-a'))
    expect(validateIntakeHeader(frame)).toMatchObject({ ok: false, reason: expect.stringContaining('"client"') })
  })

  it('does not let a bin key spelling "client" stand in for the client field', () => {
    const frame = bytes(fixmap(3), fixstr('v'), 1, fixstr('type'), fixstr('abort'), bin8('client'), fixstr('client-a'))
    expect(validateIntakeHeader(frame).ok).toBe(false)
  })

  it('does not let an array key holding "client" stand in for the client field', () => {
    const frame = bytes(fixmap(3), fixstr('v'), 1, fixstr('type'), fixstr('abort'), 0x91, fixstr('client'), fixstr('c'))
    expect(validateIntakeHeader(frame).ok).toBe(false)
  })

  it('ignores an extra integer or nil key like any unknown key', () => {
    const frame = bytes(
      fixmap(5),
      0x07, fixstr('seven'),
      0xc0, fixstr('nil'),
      fixstr('v'), 1,
      fixstr('type'), fixstr('abort'),
      fixstr('client'), fixstr('client-a'),
    )
    expect(validateIntakeHeader(frame)).toMatchObject({ ok: true, header: VALID.abort })
  })
})

describe('a header map with a __proto__ key', () => {
  const proto = fixstr('__proto__')

  it('does not take fields from the map under __proto__', () => {
    // {v: 1, type: 'abort', __proto__: {client: 'evil'}}
    const frame = bytes(fixmap(3), fixstr('v'), 1, fixstr('type'), fixstr('abort'), proto, fixmap(1), fixstr('client'), fixstr('evil'))
    const result = validateIntakeHeader(frame)
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining('"client"') })
  })

  it('does not change the prototype of the header or of other objects', () => {
    const frame = bytes(fixmap(4), fixstr('v'), 1, fixstr('type'), fixstr('abort'), fixstr('client'), fixstr('c'), proto, fixmap(1), fixstr('polluted'), 1)
    const result = validateIntakeHeader(frame)
    expect(result.ok).toBe(true)
    if (result.ok) expect(Object.getPrototypeOf(result.header)).toBe(HeaderFields.prototype)
    expect(Object.getPrototypeOf(HeaderFields.prototype)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe('a header written by hand in forms msgpackr does not produce', () => {
  const taskEntries = (str: (text: string) => Buffer, attempt: Buffer | number): (Buffer | number)[] => [
    str('v'), 1,
    str('type'), str('task'),
    str('id'), str('17'),
    str('client'), str('client-a'),
    str('replyTo'), str(REPLY_TO),
    str('attempt'), attempt,
  ]

  it.each([
    { form: 'fixmap, fixstr and fixint (python msgpack)', frame: bytes(fixmap(6), ...taskEntries(fixstr, 1)) },
    { form: 'map16 with str8 keys and values', frame: bytes(map16(6), ...taskEntries(str8, uint8(1))) },
    { form: 'map32 with str16 and uint16', frame: bytes(map32(6), ...taskEntries(str16, uint16(1))) },
    { form: 'map16 with str32 and uint64', frame: bytes(map16(6), ...taskEntries(str32, uint64(1n))) },
    { form: 'fixmap with str8 and int64', frame: bytes(fixmap(6), ...taskEntries(str8, int64(1n))) },
  ])('accepts a task header in $form', ({ frame }) => {
    expect(validateIntakeHeader(frame)).toEqual({ ok: true, header: VALID.task })
  })

  it('rejects a task header whose type is bin bytes rather than a string', () => {
    const frame = bytes(map16(6), ...taskEntries(str8, 1).map((part, i) => (i === 3 ? bin8('task') : part)))
    expect(validateIntakeHeader(frame).ok).toBe(false)
  })

  // protocol.md types v and attempt as MessagePack integers; a field of the wrong type is malformed.
  it.each([
    { field: 'v', frame: bytes(fixmap(3), fixstr('v'), float64(1), fixstr('type'), fixstr('abort'), fixstr('client'), fixstr('c')) },
    { field: 'attempt', frame: bytes(fixmap(6), ...taskEntries(fixstr, float64(1))) },
  ])('rejects $field written as the float 1.0', ({ frame }) => {
    expect(validateIntakeHeader(frame).ok).toBe(false)
  })

  it('rejects a capacity written as the float32 4.0', () => {
    const frame = bytes(fixmap(4), fixstr('v'), 1, fixstr('type'), fixstr('ready'), fixstr('worker'), fixstr('w-1'), fixstr('capacity'), float32(4))
    expect(validateWorkerHeader(frame)).toMatchObject({ ok: false, reason: expect.stringContaining('"capacity"') })
  })
})

describe('the header reader on text and keys', () => {
  // Short ASCII text is decoded in JavaScript, the rest by Node's UTF-8 decoder; both must read alike.
  it.each([
    { what: 'non-ASCII ids', id: 'é€😀', client: 'клиент' },
    { what: 'an ASCII id of 64 bytes and a client of 65', id: 'i'.repeat(64), client: 'c'.repeat(65) },
    { what: 'a 64-byte id ending in a 2-byte character', id: `${'i'.repeat(62)}é`, client: 'c' },
    { what: 'a NUL and DEL in an id', id: 'a\u0000b\u007f', client: 'c' },
    { what: 'the longest id CGP/1 allows', id: 'x'.repeat(128), client: 'é'.repeat(64) },
  ])('reads $what as they were written', ({ id, client }) => {
    for (const str of [fixstrOrStr8, str8, str16, str32]) {
      const frame = bytes(fixmap(6), str('v'), 1, str('type'), str('task'), str('id'), str(id), str('client'), str(client), str('replyTo'), str(REPLY_TO), str('attempt'), 1)
      expect(validateIntakeHeader(frame)).toEqual({ ok: true, header: { ...VALID.task, id, client } })
    }
  })

  it.each([
    { key: 'Client', why: 'differs in case' },
    { key: 'clienT', why: 'differs in its last byte' },
    { key: 'clien', why: 'is a prefix' },
    { key: 'clients', why: 'has one byte more' },
    { key: 'cliënt', why: 'has the same characters but not the same bytes' },
  ])('does not take a key that $why for a known key', ({ key }) => {
    const frame = bytes(fixmap(3), fixstr('v'), 1, fixstr('type'), fixstr('abort'), fixstr(key), fixstr('client-a'))
    expect(validateIntakeHeader(frame)).toMatchObject({ ok: false, reason: expect.stringContaining('"client"') })
  })

  it.each([
    { form: 'int8', attempt: [0xd0, 0xff], shown: '-1' },
    { form: 'int16', attempt: [0xd1, 0x80, 0x00], shown: '-32768' },
    { form: 'int32', attempt: [0xd2, 0xff, 0xff, 0xff, 0xfe], shown: '-2' },
    { form: 'uint32', attempt: [0xce, 0xff, 0xff, 0xff, 0xff], shown: '4294967295' },
    { form: 'negative fixint', attempt: [0xe0], shown: '-32' },
  ])('reads an attempt written as $form with its sign', ({ attempt, shown }) => {
    const entries = Object.entries({ ...VALID.task, attempt: 0 }).flatMap(([key, field]) => [fixstr(key), key === 'attempt' ? attempt : encode(field)])
    expect(validateIntakeHeader(bytes(fixmap(6), ...entries))).toMatchObject({ ok: false, reason: expect.stringContaining(`got ${shown}`) })
  })

  it('reads int16 and int32 attempts that are in range', () => {
    for (const attempt of [[0xd1, 0x00, 0x07], [0xd2, 0x00, 0x0f, 0x42, 0x40]]) {
      const entries = Object.entries(VALID.task).flatMap(([key, field]) => [fixstr(key), key === 'attempt' ? attempt : encode(field)])
      const result = validateIntakeHeader(bytes(fixmap(6), ...entries))
      expect(result).toMatchObject({ ok: true, header: { attempt: attempt.length === 3 ? 7 : 1_000_000 } })
    }
  })
})

/** fixstr when the text fits one, else str8: a header a minimal encoder would write. */
function fixstrOrStr8(text: string): Buffer {
  return Buffer.byteLength(text) <= 31 ? fixstr(text) : str8(text)
}
