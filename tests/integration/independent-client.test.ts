/**
 * Independent CGP/1 conformance test.
 *
 * A client and a garbage-sender written from /work/shared/protocol.md alone,
 * speaking the wire protocol with raw `zeromq` sockets and `msgpackr`. The
 * only thing taken from the product is the `Gateway` class, to start the
 * system under test.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Pull, Push } from 'zeromq'
import { Gateway } from '../../dist/index.js'
import {
  deeplyNestedArray,
  deeplyNestedMap,
  describeMessage,
  enc,
  extensionValues,
  type Header,
  hugeClaims,
  pick,
  processIsGone,
  randomBytes,
  randomInt,
  rawMap,
  type Received,
  receiveAllWithin,
  receiveUntil,
  receiveWithin,
  seededRandom,
  waitUntil,
  withDeadline,
} from '../helpers/independent-cgp.js'

type GatewayOptions = NonNullable<ConstructorParameters<typeof Gateway>[0]>
type Pair = [address: string, command: string]
type Outcome = [code: number, value: unknown]

/** address:command:response:wait (seconds). */
const FAST_MAP = [
  '10.0.0.1:foo:7:0.01',
  '10.0.0.1:bar:11:0.02',
  '10.0.0.2:foo:13:0.005',
  '10.0.0.3:baz:1:0.003',
  '',
].join('\n')

/** What the fast map answers: the response for known pairs, unknown otherwise. */
const FAST_RESPONSES = new Map<string, number>([
  ['10.0.0.1 foo', 7],
  ['10.0.0.1 bar', 11],
  ['10.0.0.2 foo', 13],
  ['10.0.0.3 baz', 1],
])

function expectedOutcomes(pairs: readonly Pair[]): Outcome[] {
  return pairs.map(([address, command]) => {
    const response = FAST_RESPONSES.get(`${address} ${command}`)
    return response === undefined ? [1, null] : [0, response]
  })
}

const SLOW_SECONDS = 2
const SLOW_MAP = `10.1.0.1:slow:100:${SLOW_SECONDS}\n10.1.0.2:slow:200:${SLOW_SECONDS}\n`

// ---------------------------------------------------------------------------
// Per-test resources, all released in afterEach.

const gateways: Gateway[] = []
const sockets: Array<Push | Pull> = []
const workerPids = new Set<number>()
const tempDirs: string[] = []

function track<S extends Push | Pull>(socket: S): S {
  socket.linger = 0
  sockets.push(socket)
  return socket
}

afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.close()
  for (const socket of sockets.splice(0)) socket.close()
  const pids = [...workerPids]
  workerPids.clear()
  try {
    await waitUntil(
      () => pids.every(processIsGone),
      15_000,
      `worker processes ${pids.filter((pid) => !processIsGone(pid)).join(', ')} to exit`,
    )
  } finally {
    for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true })
  }
})

interface Running {
  gateway: Gateway
  endpoint: string
  /** Worker losses and exits seen while the gateway was running. */
  losses: string[]
}

async function startGateway(options: Partial<GatewayOptions> = {}, map = FAST_MAP): Promise<Running> {
  const dir = await mkdtemp(join(tmpdir(), 'cgp-independent-'))
  tempDirs.push(dir)
  const mapFile = join(dir, 'devices.txt')
  await writeFile(mapFile, map)
  const gateway = new Gateway({
    bind: 'tcp://127.0.0.1:*',
    mapFile,
    maxWorkers: 2,
    heartbeatIntervalMs: 200,
    ...options,
  })
  gateways.push(gateway)
  const losses: string[] = []
  gateway.on('worker:spawn', ({ pid }) => workerPids.add(pid))
  gateway.on('worker:lost', (w) => losses.push(`lost ${w.id} (${w.reason})`))
  gateway.on('worker:exit', (w) => losses.push(`exit ${w.id} (code ${w.code}, signal ${w.signal})`))
  const ready = new Promise<void>((resolve) => gateway.once('worker:ready', () => resolve()))
  await gateway.start()
  await withDeadline(ready, 10_000, 'the first worker to say ready')
  for (const pid of gateway.workerPids) workerPids.add(pid)
  expect(gateway.workerPids.length).toBeGreaterThan(0)
  return { gateway, endpoint: gateway.endpoint, losses }
}

// ---------------------------------------------------------------------------
// An independent client.

interface TestClient {
  client: string
  replyTo: string
  results: Pull
  submit: Push
}

async function newClient(endpoint: string): Promise<TestClient> {
  const results = track(new Pull())
  await results.bind('tcp://127.0.0.1:*')
  const replyTo = results.lastEndpoint
  if (!replyTo) throw new Error('results PULL has no lastEndpoint')
  const submit = track(new Push())
  submit.connect(endpoint)
  return { client: randomUUID(), replyTo, results, submit }
}

function taskHeader(c: TestClient, id: string, extra: Header = {}): Header {
  return { v: 1, type: 'task', id, client: c.client, replyTo: c.replyTo, attempt: 1, ...extra }
}

async function sendTask(c: TestClient, id: string, pairs: readonly Pair[], extra: Header = {}): Promise<void> {
  await c.submit.send([enc(taskHeader(c, id, extra)), enc(pairs)])
}

function isResultFor(message: Received, id: string): boolean {
  return message.header?.type === 'result' && message.header.id === id
}

/** Checks a `result` against the spec: header fields, and one [code, value] per command in order. */
function expectResult(message: Received, c: TestClient, id: string, expected: Outcome[]): void {
  const context = describeMessage(message)
  expect(message.problem, context).toBeUndefined()
  expect(message.frames.length, `result has a header and a body: ${context}`).toBe(2)
  const header = message.header!
  expect(header.v, context).toBe(1)
  expect(header.type, context).toBe('result')
  expect(header.id, context).toBe(id)
  expect(header.client, context).toBe(c.client)
  expect(typeof header.worker, context).toBe('string')
  expect((header.worker as string).length, context).toBeGreaterThan(0)
  expect(header.attempt, context).toBe(1)
  expect(Array.isArray(message.body), context).toBe(true)
  expect(message.body, context).toEqual(expected)
}

/** Checks a `rejected` against the spec: header fields, no body. */
function expectRejected(message: Received, c: TestClient, id: string, reason: string, retryable: boolean): void {
  const context = describeMessage(message)
  expect(message.problem, context).toBeUndefined()
  const header = message.header!
  expect(header.v, context).toBe(1)
  expect(header.type, context).toBe('rejected')
  expect(header.id, context).toBe(id)
  expect(header.client, context).toBe(c.client)
  expect(header.reason, context).toBe(reason)
  expect(header.retryable, context).toBe(retryable)
  expect(message.frames.length, `rejected has no body: ${context}`).toBe(1)
}

/** Receives until every id in `ids` has a result; fails with what did arrive otherwise. */
async function collectResults(c: TestClient, ids: readonly string[], withinMs: number): Promise<Received[]> {
  const wanted = new Set(ids)
  const { received, complete } = await receiveUntil(c.results, withinMs, (got) => {
    const seen = new Set(got.filter((m) => m.header?.type === 'result').map((m) => m.header!.id))
    return [...wanted].every((id) => seen.has(id))
  })
  if (!complete) {
    const seen = new Set(received.map((m) => m.header?.id))
    const missing = ids.filter((id) => !seen.has(id))
    throw new Error(
      `no result within ${withinMs} ms for ${missing.length} batch(es): ${missing.slice(0, 5).join(', ')}; ` +
        `received ${received.length}: ${received.slice(0, 3).map(describeMessage).join(' | ')}`,
    )
  }
  return received
}

// ---------------------------------------------------------------------------

describe('CGP/1 gateway, seen by an independent client written from protocol.md', () => {
  it('answers a valid task batch with exactly one result: v 1, type result, same id and client, a string worker, attempt 1, one [code, value] per command in order (0/response for known, 1/nil for unknown)', async () => {
    const { endpoint } = await startGateway()
    const c = await newClient(endpoint)
    const pairs: Pair[] = [
      ['10.0.0.1', 'foo'],
      ['10.0.0.2', 'foo'],
      ['10.9.9.9', 'foo'], // unknown address
      ['10.0.0.1', 'nope'], // unknown command
      ['switch-7.example', 'foo'], // unknown host name
      ['10.0.0.1', 'bar'],
      ['10.0.0.3', 'baz'],
    ]
    await sendTask(c, 'batch-1', pairs)

    const [result] = await collectResults(c, ['batch-1'], 10_000)
    expectResult(result!, c, 'batch-1', [
      [0, 7],
      [0, 13],
      [1, null],
      [1, null],
      [1, null],
      [0, 11],
      [0, 1],
    ])
    const extra = await receiveAllWithin(c.results, 400)
    expect(extra.map(describeMessage), 'nothing after the one result').toEqual([])
  })

  it('serves several batches from one client, and the sum of the code-0 values is the expected total', async () => {
    const { endpoint } = await startGateway()
    const c = await newClient(endpoint)
    const random = seededRandom(2024)
    const pool: Pair[] = [
      ['10.0.0.1', 'foo'],
      ['10.0.0.1', 'bar'],
      ['10.0.0.2', 'foo'],
      ['10.0.0.3', 'baz'],
      ['10.0.0.2', 'bar'], // unknown command on a known address
      ['10.0.0.99', 'foo'], // unknown address
    ]
    const batches = new Map<string, Pair[]>()
    for (let i = 0; i < 25; i++) {
      batches.set(`b-${i}`, Array.from({ length: randomInt(random, 1, 12) }, () => pick(random, pool)))
    }
    let expectedTotal = 0
    for (const pairs of batches.values()) {
      for (const [code, value] of expectedOutcomes(pairs)) if (code === 0) expectedTotal += value as number
    }
    expect(expectedTotal).toBeGreaterThan(0)

    for (const [id, pairs] of batches) await sendTask(c, id, pairs)
    const received = await collectResults(c, [...batches.keys()], 15_000)

    // De-duplicate by id, as the spec says clients MUST.
    const byId = new Map<string, Received>()
    for (const message of received) {
      expect(message.header?.type, describeMessage(message)).toBe('result')
      if (!byId.has(message.header!.id as string)) byId.set(message.header!.id as string, message)
    }
    expect([...byId.keys()].sort()).toEqual([...batches.keys()].sort())
    let total = 0
    for (const [id, message] of byId) {
      expectResult(message, c, id, expectedOutcomes(batches.get(id)!))
      for (const [code, value] of message.body as Outcome[]) if (code === 0) total += value as number
    }
    expect(total).toBe(expectedTotal)
  })

  it('delivers each result only to its own client when two clients with different replyTo submit at the same time', async () => {
    const { endpoint } = await startGateway()
    const alice = await newClient(endpoint)
    const bob = await newClient(endpoint)
    expect(alice.replyTo).not.toBe(bob.replyTo)
    const idsOf = (prefix: string) => Array.from({ length: 15 }, (_, i) => `${prefix}-${i}`)
    const aliceIds = idsOf('alice')
    // The same batch ids for both clients: a batch is identified by (client, id).
    const bobIds = idsOf('alice')
    const alicePairs: Pair[] = [['10.0.0.1', 'foo']]
    const bobPairs: Pair[] = [
      ['10.0.0.2', 'foo'],
      ['10.0.0.1', 'bar'],
    ]

    await Promise.all([
      (async () => {
        for (const id of aliceIds) await sendTask(alice, id, alicePairs)
      })(),
      (async () => {
        for (const id of bobIds) await sendTask(bob, id, bobPairs)
      })(),
    ])
    const [aliceGot, bobGot] = await Promise.all([
      collectResults(alice, aliceIds, 15_000),
      collectResults(bob, bobIds, 15_000),
    ])
    const [aliceLate, bobLate] = await Promise.all([
      receiveAllWithin(alice.results, 400),
      receiveAllWithin(bob.results, 400),
    ])

    for (const message of [...aliceGot, ...aliceLate]) {
      expect(message.header?.client, describeMessage(message)).toBe(alice.client)
      expectResult(message, alice, message.header!.id as string, [[0, 7]])
    }
    for (const message of [...bobGot, ...bobLate]) {
      expect(message.header?.client, describeMessage(message)).toBe(bob.client)
      expectResult(message, bob, message.header!.id as string, [
        [0, 13],
        [0, 11],
      ])
    }
  })

  it('rejects a batch over the batch limit with too-large, retryable false, the same id and client (and still serves one at the limit)', async () => {
    const { endpoint } = await startGateway({ maxBatch: 5 })
    const c = await newClient(endpoint)
    const six: Pair[] = Array.from({ length: 6 }, () => ['10.0.0.1', 'foo'] as Pair)
    const five: Pair[] = six.slice(0, 5)
    await sendTask(c, 'too-big', six)
    await sendTask(c, 'at-limit', five)

    const { received, complete } = await receiveUntil(
      c.results,
      10_000,
      (got) => got.some((m) => m.header?.id === 'too-big') && got.some((m) => m.header?.id === 'at-limit'),
    )
    expect(complete, `received: ${received.map(describeMessage).join(' | ')}`).toBe(true)
    received.push(...(await receiveAllWithin(c.results, 400)))
    const tooBig = received.filter((m) => m.header?.id === 'too-big')
    const atLimit = received.filter((m) => m.header?.id === 'at-limit')
    expect(tooBig.length, 'exactly one answer to the oversized batch').toBe(1)
    expectRejected(tooBig[0]!, c, 'too-big', 'too-large', false)
    expect(atLimit.length, 'exactly one answer to the batch at the limit').toBe(1)
    expectResult(atLimit[0]!, c, 'at-limit', expectedOutcomes(five))
    expect(received.length).toBe(2)
  })

  describe('rejects malformed tasks whose replyTo is readable with `rejected` malformed', () => {
    const good: Pair[] = [['10.0.0.1', 'foo']]
    const cases: Array<[name: string, frames: (c: TestClient, id: string) => Buffer[]]> = [
      ['an empty body array', (c, id) => [enc(taskHeader(c, id)), enc([])]],
      ['a body that is a map, not an array', (c, id) => [enc(taskHeader(c, id)), enc({ '10.0.0.1': 'foo' })]],
      ['a body that is a string, not an array', (c, id) => [enc(taskHeader(c, id)), enc('10.0.0.1 foo')]],
      [
        'a pair with a non-string member',
        (c, id) => [
          enc(taskHeader(c, id)),
          enc([
            ['10.0.0.1', 'foo'],
            ['10.0.0.1', 42],
          ]),
        ],
      ],
      [
        'a header without attempt',
        (c, id) => {
          const { attempt: _attempt, ...header } = taskHeader(c, id)
          return [enc(header), enc(good)]
        },
      ],
      ['attempt 0', (c, id) => [enc(taskHeader(c, id, { attempt: 0 })), enc(good)]],
      ['v 2', (c, id) => [enc(taskHeader(c, id, { v: 2 })), enc(good)]],
      ['a task with no body frame', (c, id) => [enc(taskHeader(c, id))]],
      ['a task with 3 frames', (c, id) => [enc(taskHeader(c, id)), enc(good), enc(good)]],
    ]

    it.each(cases)('%s', async (_name, build) => {
      const { endpoint } = await startGateway()
      const c = await newClient(endpoint)
      await c.submit.send(build(c, 'bad-1'))
      const first = await receiveWithin(c.results, 5_000)
      expect(first, 'an answer to the malformed task').not.toBeNull()
      // A malformed batch can never succeed when sent again, so retryable is false.
      expectRejected(first!, c, 'bad-1', 'malformed', false)
      const extra = await receiveAllWithin(c.results, 300)
      expect(extra.map(describeMessage), 'nothing more, and never a result').toEqual([])
    })
  })

  // protocol.md does not say which id/client a `rejected` carries when the task's own id or
  // client cannot be read (missing, not a string, out of the 1–128 byte range). This checks
  // only what the page does say: a malformed task never runs, and a `rejected` header has
  // string `id` and `client` fields.
  it('never runs a task whose id or client is unreadable; any answer is a non-retryable `rejected` malformed with string id and client', async () => {
    const { endpoint } = await startGateway()
    const c = await newClient(endpoint)
    const body = enc([['10.0.0.1', 'foo']])
    const headers: Header[] = [
      (({ id: _id, ...rest }) => rest)(taskHeader(c, 'unused')),
      taskHeader(c, 'unused', { id: 42 }),
      taskHeader(c, 'unused', { id: '' }),
      taskHeader(c, 'unused', { id: 'x'.repeat(129) }),
      (({ client: _client, ...rest }) => rest)(taskHeader(c, 'no-client')),
      taskHeader(c, 'client-not-a-string', { client: 7 }),
    ]
    for (const header of headers) await c.submit.send([enc(header), body])
    const answers = await receiveAllWithin(c.results, 1_500)
    expect(answers.length).toBeLessThanOrEqual(headers.length)
    for (const answer of answers) {
      const context = describeMessage(answer)
      expect(answer.problem, context).toBeUndefined()
      expect(answer.header?.v, context).toBe(1)
      expect(answer.header?.type, context).toBe('rejected')
      expect(answer.header?.reason, context).toBe('malformed')
      expect(answer.header?.retryable, context).toBe(false)
      expect(typeof answer.header?.id, context).toBe('string')
      expect(typeof answer.header?.client, context).toBe('string')
      expect(answer.frames.length, context).toBe(1)
    }
  })

  it('ignores unknown header keys: a task with extra keys {foo, nested} is served normally', async () => {
    const { endpoint } = await startGateway()
    const c = await newClient(endpoint)
    const pairs: Pair[] = [
      ['10.0.0.2', 'foo'],
      ['10.0.0.1', 'bar'],
    ]
    await sendTask(c, 'extra-keys', pairs, { foo: 'bar', nested: { a: 1 } })
    const [result] = await collectResults(c, ['extra-keys'], 10_000)
    expectResult(result!, c, 'extra-keys', expectedOutcomes(pairs))
    const extra = await receiveAllWithin(c.results, 300)
    expect(extra.map(describeMessage)).toEqual([])
  })

  it('never answers garbage on the intake with anything usable, counts it as malformed, and serves the next valid batch', async () => {
    const { gateway, endpoint, losses } = await startGateway()
    const c = await newClient(endpoint)
    // Garbage that does carry a readable-looking replyTo points here, not at c.
    const trap = track(new Pull())
    await trap.bind('tcp://127.0.0.1:*')
    const trapReplyTo = trap.lastEndpoint!
    const random = seededRandom(0xc9f1)
    let serial = 0
    const trapHeader = (extra: Header = {}): Header => ({
      v: 1,
      type: 'task',
      id: `g-${serial++}`,
      client: 'garbage-client',
      replyTo: trapReplyTo,
      attempt: 1,
      ...extra,
    })
    const validBody = enc([['10.0.0.1', 'foo']])

    // Frame 0 candidates that are no valid header: no replyTo can be read from them.
    const headerless: Array<() => Buffer> = [
      () => Buffer.alloc(0),
      () => randomBytes(random, randomInt(random, 1, 64)),
      () => {
        const whole = enc(trapHeader())
        return whole.subarray(0, randomInt(random, 1, whole.length - 1))
      },
      () => pick(random, extensionValues),
      () => rawMap([['v', pick(random, extensionValues)], ['type', enc('task')]]),
      () =>
        rawMap([
          ['v', enc(1)],
          ['type', enc('task')],
          ['id', enc(`g-${serial++}`)],
          ['client', enc('garbage-client')],
          ['replyTo', pick(random, extensionValues)],
          ['attempt', enc(1)],
        ]),
      () => deeplyNestedArray(1000),
      () => deeplyNestedMap(1000),
      () => rawMap([['v', deeplyNestedArray(1000)], ['type', enc('task')]]),
      () => pick(random, hugeClaims),
      () =>
        rawMap([
          ['v', enc(1)],
          ['type', enc('task')],
          ['id', enc(`g-${serial++}`)],
          ['client', enc('garbage-client')],
          ['replyTo', hugeClaims[0]!],
        ]),
      () => enc([1, 'task', `g-${serial++}`, 'garbage-client', trapReplyTo, 1]), // header that is an array
      () => enc(pick(random, ['task', 1, null, true, 3.5, ['v', 1]])),
      () => enc(trapHeader({ replyTo: 12345 })),
      () => enc(trapHeader({ replyTo: [trapReplyTo] })),
      () => enc(trapHeader({ replyTo: '' })),
      () => {
        const { replyTo: _replyTo, ...header } = trapHeader()
        return enc(header)
      },
    ]
    // Body candidates that are garbage.
    const garbageBodies: Array<() => Buffer> = [
      () => Buffer.alloc(0),
      () => randomBytes(random, randomInt(random, 1, 64)),
      () => validBody.subarray(0, randomInt(random, 1, validBody.length - 1)),
      () => pick(random, extensionValues),
      () => Buffer.concat([Buffer.from([0x91, 0x92]), enc('10.0.0.1'), pick(random, extensionValues)]),
      () => deeplyNestedArray(1000),
      () => Buffer.concat([Buffer.from([0x91, 0x92]), enc('10.0.0.1'), deeplyNestedArray(1000)]),
      () => pick(random, hugeClaims),
      () => Buffer.concat([Buffer.from([0x91, 0x92]), enc('10.0.0.1'), hugeClaims[0]!]),
    ]
    const notEndpoints = ['not an endpoint', 'http://127.0.0.1:1/', 'tcp://', 'tcp://127.0.0.1:notaport', 'x']

    let frameCount = 0
    let headerlessMessages = 0
    const framesPerMessage = new Set<number>()
    const messages: Buffer[][] = []
    for (let i = 0; i < 1100; i++) {
      const frames = randomInt(random, 1, 3)
      const roll = random()
      let message: Buffer[]
      if (roll < 0.75) {
        // No valid header; later frames are garbage or a valid body.
        message = [pick(random, headerless)()]
        while (message.length < frames) message.push(random() < 0.3 ? validBody : pick(random, garbageBodies)())
        headerlessMessages++
      } else if (roll < 0.95) {
        // A readable header with a garbage body (or none, or a surplus frame).
        message = [enc(trapHeader())]
        while (message.length < frames) message.push(pick(random, garbageBodies)())
      } else {
        // A well-typed header whose replyTo is no ZeroMQ endpoint, with a valid body.
        message = [enc(trapHeader({ replyTo: pick(random, notEndpoints) })), validBody]
      }
      messages.push(message)
      frameCount += message.length
      framesPerMessage.add(message.length)
    }
    expect(frameCount).toBeGreaterThanOrEqual(2000)
    expect([...framesPerMessage].sort()).toEqual([1, 2, 3])

    const malformedBefore = gateway.stats.malformed
    for (const message of messages) await c.submit.send(message)

    // The next valid batch, on the same connection, is served correctly.
    const pairs: Pair[] = [
      ['10.0.0.1', 'foo'],
      ['10.0.0.9', 'foo'],
      ['10.0.0.2', 'foo'],
    ]
    await sendTask(c, 'after-garbage', pairs)
    const first = await receiveWithin(c.results, 15_000)
    expect(first, 'a result for the valid batch sent after the garbage').not.toBeNull()
    expectResult(first!, c, 'after-garbage', expectedOutcomes(pairs))
    const mainExtra = await receiveAllWithin(c.results, 300)
    expect(mainExtra.map(describeMessage), 'nothing else reaches the client').toEqual([])

    // Whatever reached the trap must be a well-formed, non-retryable `rejected`, never a result.
    // The reason may be `too-large` as well as `malformed`: a truncated body whose array
    // header claims 4 G pairs is both, and protocol.md does not rank the reasons.
    const trapped = await receiveAllWithin(trap, 500)
    const unusable = trapped.filter(
      (m) =>
        m.problem !== undefined ||
        m.header?.v !== 1 ||
        m.header?.type !== 'rejected' ||
        !['malformed', 'too-large'].includes(m.header?.reason as string) ||
        m.header?.retryable !== false ||
        m.frames.length !== 1,
    )
    expect(unusable.slice(0, 5).map(describeMessage), 'only a non-retryable `rejected` answers garbage').toEqual([])
    expect(trapped.length, 'no more answers than garbage messages with a readable replyTo').toBeLessThanOrEqual(
      messages.length - headerlessMessages,
    )

    // Messages with no valid header are counted.
    expect(gateway.stats.malformed - malformedBefore).toBeGreaterThanOrEqual(headerlessMessages)
    // A malformed message never stops a process.
    expect(losses).toEqual([])
  })

  it('abort drops the batches of that client that no worker has started; the running one is cancelled, code 4', async () => {
    const { gateway, endpoint } = await startGateway({ maxWorkers: 1, capacity: 1 }, SLOW_MAP)
    const c = await newClient(endpoint)
    const other = await newClient(endpoint)
    const slow: Pair[] = [['10.1.0.1', 'slow']]

    const sentAt = Date.now()
    await sendTask(c, 'running', slow)
    await waitUntil(() => gateway.stats.dispatched >= 1, 5_000, 'the first batch to reach the worker')
    for (const id of ['queued-1', 'queued-2', 'queued-3']) await sendTask(c, id, slow)
    // Another client's queued batch must survive this client's abort.
    await sendTask(other, 'other-queued', [['10.1.0.2', 'slow']])
    await waitUntil(() => gateway.queued === 4, 5_000, 'four batches to be queued behind the running one')

    const aborter = track(new Push())
    aborter.connect(endpoint)
    await aborter.send([enc({ v: 1, type: 'abort', client: c.client })])

    // The running batch is cancelled: its result still comes, code 4, before its wait would have ended.
    const running = await receiveWithin(c.results, SLOW_SECONDS * 1000 - (Date.now() - sentAt))
    expect(running, 'the running batch still produces its result').not.toBeNull()
    expectResult(running!, c, 'running', [[4, null]])

    // Had they run, the queued batches would have finished one wait later each.
    const after = await receiveAllWithin(c.results, SLOW_SECONDS * 1000 + 1_000)
    const results = after.filter((m) => m.header?.type === 'result')
    expect(results.map(describeMessage), 'no result for a batch dropped by abort').toEqual([])

    const otherResult = await receiveWithin(other.results, SLOW_SECONDS * 1000 + 3_000)
    expect(otherResult, "the other client's batch is not aborted").not.toBeNull()
    expectResult(otherResult!, other, 'other-queued', [[0, 200]])
  })

  it('never delivers a result twice for a batch sent once while workers are healthy', async () => {
    const { endpoint, losses } = await startGateway()
    const c = await newClient(endpoint)
    const ids = Array.from({ length: 8 }, (_, i) => `once-${i}`)
    const pairs: Pair[] = [
      ['10.0.0.1', 'bar'],
      ['10.0.0.2', 'foo'],
    ]
    for (const id of ids) await sendTask(c, id, pairs)
    const received = await collectResults(c, ids, 10_000)
    // Longer than the gateway's dead-worker detection (3 × 200 ms heartbeat) plus a margin.
    received.push(...(await receiveAllWithin(c.results, 1_500)))
    const counts = new Map<string, number>()
    for (const message of received) {
      expectResult(message, c, message.header!.id as string, expectedOutcomes(pairs))
      counts.set(message.header!.id as string, (counts.get(message.header!.id as string) ?? 0) + 1)
    }
    expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])))
    expect(losses, 'workers stayed healthy').toEqual([])
  })
})
