/**
 * The retry policy of Sender, against a fake socket. This is a unit test of
 * the queue and retry logic; the real zeromq.js behaviour (EAGAIN after
 * sendTimeout at the high-water mark, EBUSY on overlapping sends) is faked
 * here and covered for real by the integration tests.
 */
import { describe, expect, it, vi } from 'vitest'
import { Sender, type WritableSocket } from '../../src/transport/sender.js'
import { SendError } from '../../src/errors.js'

const ENDPOINT = 'tcp://127.0.0.1:5557'

function codeError(code: string, message = `fake ${code}`): Error {
  return Object.assign(new Error(message), { code })
}

/** How the fake socket ends one send attempt of `message` (its `attempt`-th, from 1). */
type Behaviour = (message: string, attempt: number) => Promise<void>

interface Held {
  readonly message: string
  accept(): void
  refuse(code: string): void
}

/**
 * A stand-in for a zeromq.js writable socket. Like zeromq.js it throws EBUSY
 * when `send` is called while a previous send is still pending; it records
 * every attempt so tests can count them.
 */
class FakeSocket implements WritableSocket {
  sendTimeout = -1
  closed = false
  /** The first frame of every send attempt, in order. */
  readonly attempts: string[] = []
  /** The first frame of every message that went out. */
  readonly accepted: string[] = []
  /** Calls made while another send was pending (the Sender must never do this). */
  busyCalls = 0
  private inFlight = false

  constructor(private readonly behaviour: Behaviour = () => Promise.resolve()) {}

  async send(frames: Buffer[]): Promise<void> {
    if (this.inFlight) {
      this.busyCalls++
      throw codeError('EBUSY', 'Socket is busy writing; only one send operation may be in progress at any time')
    }
    this.inFlight = true
    const message = frames[0]!.toString()
    this.attempts.push(message)
    try {
      await this.behaviour(message, this.attempts.filter((m) => m === message).length)
      this.accepted.push(message)
    } finally {
      this.inFlight = false
    }
  }
}

/** Every attempt waits until the test accepts or refuses it. */
function heldBehaviour(): { behaviour: Behaviour; held: Held[] } {
  const held: Held[] = []
  const behaviour: Behaviour = (message) =>
    new Promise<void>((resolve, reject) => {
      held.push({ message, accept: resolve, refuse: (code) => reject(codeError(code)) })
    })
  return { behaviour, held }
}

/** Attempts take a macrotask each, so overlapping sends would really overlap. */
const slowAccept: Behaviour = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Lets every pending promise chain run (no timer involved). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
}

function msg(text: string): Buffer[] {
  return [Buffer.from(text), Buffer.from('body')]
}

describe('a Sender given several messages at once', () => {
  it('hands the socket one message at a time, in order', async () => {
    const { behaviour, held } = heldBehaviour()
    const socket = new FakeSocket(behaviour)
    const sender = new Sender(socket, ENDPOINT)
    const sent = ['a', 'b', 'c'].map((m) => sender.send(msg(m)))

    await settle()
    expect(socket.attempts).toEqual(['a'])
    held[0]!.accept()
    await settle()
    expect(socket.attempts).toEqual(['a', 'b'])
    held[1]!.accept()
    await settle()
    held[2]!.accept()

    await expect(Promise.all(sent)).resolves.toEqual([undefined, undefined, undefined])
    expect(socket.accepted).toEqual(['a', 'b', 'c'])
    expect(socket.busyCalls).toBe(0)
  })

  it('never triggers EBUSY when fifty sends overlap with a slow socket', async () => {
    const socket = new FakeSocket(slowAccept)
    const sender = new Sender(socket, ENDPOINT)
    const names = Array.from({ length: 50 }, (_, i) => `m${i}`)
    await Promise.all(names.map((m) => sender.send(msg(m))))
    expect(socket.busyCalls).toBe(0)
    expect(socket.accepted).toEqual(names)
  })

  it('counts the message being sent in its backlog', async () => {
    const { behaviour, held } = heldBehaviour()
    const sender = new Sender(new FakeSocket(behaviour), ENDPOINT)
    const first = sender.send(msg('a'))
    void sender.send(msg('b'))
    await settle()
    expect(sender.backlog).toBe(2)
    held[0]!.accept()
    await first
    expect(sender.backlog).toBe(1)
  })

  it('sends again after its queue ran empty', async () => {
    const socket = new FakeSocket(slowAccept)
    const sender = new Sender(socket, ENDPOINT)
    await sender.send(msg('a'))
    await sender.send(msg('b'))
    expect(socket.accepted).toEqual(['a', 'b'])
  })
})

describe('a Sender whose socket sets sendTimeout', () => {
  it('sets the socket sendTimeout to retryDelayMs', () => {
    const socket = new FakeSocket()
    new Sender(socket, ENDPOINT, { retryDelayMs: 250 })
    expect(socket.sendTimeout).toBe(250)
  })

  it('sets the socket sendTimeout to 1000 ms by default', () => {
    const socket = new FakeSocket()
    new Sender(socket, ENDPOINT)
    expect(socket.sendTimeout).toBe(1000)
  })
})

describe('a Sender whose socket stays at the high-water mark (EAGAIN)', () => {
  const alwaysFull: Behaviour = () => Promise.reject(codeError('EAGAIN'))

  it.each([{ retries: 0 }, { retries: 1 }, { retries: 3 }, { retries: 10 }])(
    'tries 1 + $retries times, then rejects with ERR_SEND_RETRIES_EXHAUSTED naming the endpoint',
    async ({ retries }) => {
      const socket = new FakeSocket(alwaysFull)
      const sender = new Sender(socket, ENDPOINT, { retries, retryDelayMs: 5 })
      const p = sender.send(msg('a'))
      await expect(p).rejects.toBeInstanceOf(SendError)
      await expect(p).rejects.toMatchObject({
        code: 'ERR_SEND_RETRIES_EXHAUSTED',
        endpoint: ENDPOINT,
        message: expect.stringContaining(ENDPOINT),
      })
      expect(socket.attempts).toHaveLength(retries + 1)
    },
  )

  it('reports each retry to onRetry, numbered from 1', async () => {
    const onRetry = vi.fn()
    const sender = new Sender(new FakeSocket(alwaysFull), ENDPOINT, { retries: 3, onRetry })
    await expect(sender.send(msg('a'))).rejects.toMatchObject({ code: 'ERR_SEND_RETRIES_EXHAUSTED' })
    expect(onRetry.mock.calls).toEqual([[1], [2], [3]])
  })

  it('keeps the EAGAIN error as the cause', async () => {
    const sender = new Sender(new FakeSocket(alwaysFull), ENDPOINT, { retries: 0 })
    await expect(sender.send(msg('a'))).rejects.toMatchObject({ cause: { code: 'EAGAIN' } })
  })

  it('resolves when room appears before the retries run out', async () => {
    const socket = new FakeSocket((_message, attempt) => (attempt <= 2 ? Promise.reject(codeError('EAGAIN')) : Promise.resolve()))
    const sender = new Sender(socket, ENDPOINT, { retries: 2 })
    await expect(sender.send(msg('a'))).resolves.toBeUndefined()
    expect(socket.attempts).toEqual(['a', 'a', 'a'])
  })

  it('with failFast (the default) rejects the queued messages too, without trying them', async () => {
    const socket = new FakeSocket((message) => (message === 'a' ? Promise.reject(codeError('EAGAIN')) : Promise.resolve()))
    const sender = new Sender(socket, ENDPOINT, { retries: 2 })
    const checks = ['a', 'b', 'c'].map((m) =>
      expect(sender.send(msg(m))).rejects.toMatchObject({ code: 'ERR_SEND_RETRIES_EXHAUSTED', endpoint: ENDPOINT }),
    )
    await Promise.all(checks)
    expect(socket.attempts).toEqual(['a', 'a', 'a'])
    expect(socket.accepted).toEqual([])
  })

  it('with failFast still sends a message queued after the failure', async () => {
    const socket = new FakeSocket((message) => (message === 'a' ? Promise.reject(codeError('EAGAIN')) : Promise.resolve()))
    const sender = new Sender(socket, ENDPOINT, { retries: 1 })
    await expect(sender.send(msg('a'))).rejects.toMatchObject({ code: 'ERR_SEND_RETRIES_EXHAUSTED' })
    await expect(sender.send(msg('later'))).resolves.toBeUndefined()
    expect(socket.accepted).toEqual(['later'])
  })

  it('with failFast false still attempts the queued messages', async () => {
    const socket = new FakeSocket((message) => (message === 'a' ? Promise.reject(codeError('EAGAIN')) : Promise.resolve()))
    const sender = new Sender(socket, ENDPOINT, { retries: 2, failFast: false })
    const a = expect(sender.send(msg('a'))).rejects.toMatchObject({ code: 'ERR_SEND_RETRIES_EXHAUSTED' })
    const b = expect(sender.send(msg('b'))).resolves.toBeUndefined()
    const c = expect(sender.send(msg('c'))).resolves.toBeUndefined()
    await Promise.all([a, b, c])
    expect(socket.accepted).toEqual(['b', 'c'])
    expect(socket.busyCalls).toBe(0)
  })
})

describe('a Sender whose socket refuses a message for another reason', () => {
  it.each([
    { what: 'EFSM', error: codeError('EFSM') },
    { what: 'EHOSTUNREACH', error: codeError('EHOSTUNREACH') },
    { what: 'an error without a code', error: new Error('boom') },
    { what: 'a thrown string', error: 'boom' },
  ])('rejects on $what with ERR_SEND_FAILED after one attempt', async ({ error }) => {
    const socket = new FakeSocket((message) => (message === 'a' ? Promise.reject(error) : Promise.resolve()))
    const sender = new Sender(socket, ENDPOINT, { retries: 5 })
    const p = sender.send(msg('a'))
    await expect(p).rejects.toMatchObject({ code: 'ERR_SEND_FAILED', endpoint: ENDPOINT, cause: error })
    expect(socket.attempts).toEqual(['a'])
  })

  it('still sends the messages queued behind it', async () => {
    const socket = new FakeSocket((message) => (message === 'a' ? Promise.reject(codeError('EFSM')) : Promise.resolve()))
    const sender = new Sender(socket, ENDPOINT)
    const a = expect(sender.send(msg('a'))).rejects.toMatchObject({ code: 'ERR_SEND_FAILED' })
    const b = expect(sender.send(msg('b'))).resolves.toBeUndefined()
    await Promise.all([a, b])
    expect(socket.accepted).toEqual(['b'])
  })
})

describe('a Sender whose backlog is full', () => {
  it('rejects one message more than maxBacklog with ERR_SEND_BACKLOG_FULL at once', async () => {
    const { behaviour, held } = heldBehaviour()
    const socket = new FakeSocket(behaviour)
    const sender = new Sender(socket, ENDPOINT, { maxBacklog: 2 })
    const a = sender.send(msg('a'))
    const b = sender.send(msg('b'))
    await expect(sender.send(msg('c'))).rejects.toMatchObject({ code: 'ERR_SEND_BACKLOG_FULL', endpoint: ENDPOINT })

    held[0]!.accept()
    await settle()
    held[1]!.accept()
    await expect(Promise.all([a, b])).resolves.toEqual([undefined, undefined])
    expect(socket.attempts).toEqual(['a', 'b'])
  })

  it('takes messages again once the backlog has room', async () => {
    const { behaviour, held } = heldBehaviour()
    const sender = new Sender(new FakeSocket(behaviour), ENDPOINT, { maxBacklog: 1 })
    const a = sender.send(msg('a'))
    await expect(sender.send(msg('b'))).rejects.toMatchObject({ code: 'ERR_SEND_BACKLOG_FULL' })
    await settle()
    held[0]!.accept()
    await a
    const c = sender.send(msg('c'))
    await settle()
    held[1]!.accept()
    await expect(c).resolves.toBeUndefined()
  })
})

describe('a Sender asked to withdraw a message', () => {
  it('drops a waiting message unsent, resolves it, and frees its place in the backlog', async () => {
    const { behaviour, held } = heldBehaviour()
    const socket = new FakeSocket(behaviour)
    const sender = new Sender(socket, ENDPOINT, { maxBacklog: 2 })
    const a = sender.send(msg('a'))
    const bFrames = msg('b')
    const b = sender.send(bFrames)
    await settle()
    expect(sender.withdraw(bFrames)).toBe(true)
    await expect(b).resolves.toBeUndefined()
    const c = sender.send(msg('c'))
    held[0]!.accept()
    await settle()
    held[1]!.accept()
    await Promise.all([a, c])
    expect(socket.attempts).toEqual(['a', 'c'])
  })

  it('leaves the message being sent alone', async () => {
    const { behaviour, held } = heldBehaviour()
    const socket = new FakeSocket(behaviour)
    const sender = new Sender(socket, ENDPOINT)
    const aFrames = msg('a')
    const a = sender.send(aFrames)
    await settle()
    expect(sender.withdraw(aFrames)).toBe(false)
    held[0]!.accept()
    await a
    expect(socket.accepted).toEqual(['a'])
  })
})

describe('a Sender that is closed', () => {
  it('rejects the message in flight and the queued ones with ERR_SEND_CLOSED', async () => {
    const { behaviour, held } = heldBehaviour()
    const socket = new FakeSocket(behaviour)
    const sender = new Sender(socket, ENDPOINT)
    const checks = ['a', 'b', 'c'].map((m) =>
      expect(sender.send(msg(m))).rejects.toMatchObject({ code: 'ERR_SEND_CLOSED', endpoint: ENDPOINT }),
    )
    await settle()
    sender.close()
    await Promise.all(checks)

    held[0]!.accept() // the socket finishing late changes nothing
    await settle()
    expect(socket.attempts).toEqual(['a'])
    expect(sender.backlog).toBe(0)
  })

  it('rejects later sends with ERR_SEND_CLOSED without touching the socket', async () => {
    const socket = new FakeSocket()
    const sender = new Sender(socket, ENDPOINT)
    sender.close()
    sender.close() // idempotent
    await expect(sender.send(msg('a'))).rejects.toMatchObject({ code: 'ERR_SEND_CLOSED', endpoint: ENDPOINT })
    expect(socket.attempts).toEqual([])
  })

  it('rejects with ERR_SEND_CLOSED when the socket itself is closed', async () => {
    const socket = new FakeSocket()
    socket.closed = true
    const sender = new Sender(socket, ENDPOINT)
    await expect(sender.send(msg('a'))).rejects.toMatchObject({ code: 'ERR_SEND_CLOSED', endpoint: ENDPOINT })
    expect(socket.attempts).toEqual([])
  })

  it('stops retrying a message when closed between attempts', async () => {
    const { behaviour, held } = heldBehaviour()
    const socket = new FakeSocket(behaviour)
    const sender = new Sender(socket, ENDPOINT, { retries: 10 })
    const p = expect(sender.send(msg('a'))).rejects.toMatchObject({ code: 'ERR_SEND_CLOSED' })
    await settle()
    sender.close()
    held[0]!.refuse('EAGAIN')
    await p
    await settle()
    expect(socket.attempts).toEqual(['a'])
  })
})

/**
 * A socket closed under a pending send: the cache that owns it evicted it, or
 * shutdown closed it. zeromq.js then rejects the send and its option getters
 * throw ENOTSOCK; before the fix that throw escaped the pump as an unhandled
 * rejection and ended the process (the gateway's exit 1 under a replyTo flood).
 */
describe('a Sender whose real zeromq socket is closed while a send waits at the high-water mark', () => {
  it('rejects that send with ERR_SEND_CLOSED, and nothing escapes as an unhandled rejection', async () => {
    const { Push } = await import('zeromq')
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      // immediate: no peer, so the send waits for room until its timeout.
      const socket = new Push({ linger: 0, immediate: true })
      socket.connect('tcp://127.0.0.1:9')
      const sender = new Sender(socket, 'tcp://127.0.0.1:9', { retries: 0, retryDelayMs: 200 })
      const sending = sender.send([Buffer.from('a')])
      await new Promise((resolve) => setImmediate(resolve))
      socket.close()
      await expect(sending).rejects.toMatchObject({ code: 'ERR_SEND_CLOSED', endpoint: 'tcp://127.0.0.1:9' })
      await expect(sender.send([Buffer.from('b')])).rejects.toMatchObject({ code: 'ERR_SEND_CLOSED' })
      // Give a stray rejection the turns it needs to surface.
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})

describe('a Sender whose socket getters throw once it is closed, as zeromq.js does', () => {
  it('fails the message with a SendError instead of throwing out of its pump', async () => {
    const socket = new FakeSocket(() => {
      socket.closed = true
      return Promise.reject(codeError('ENOTSOCK', 'Socket is closed'))
    })
    const sender = new Sender(socket, ENDPOINT, { retries: 1, retryDelayMs: 10 })
    Object.defineProperty(socket, 'sendTimeout', {
      get: () => {
        throw codeError('ENOTSOCK', 'Socket is closed')
      },
      set: () => undefined,
    })
    const error = await sender.send(msg('a')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SendError)
    expect(error).toMatchObject({ code: 'ERR_SEND_CLOSED' })
  })
})
