/**
 * The ZAP handler on real CURVE sockets over 127.0.0.1: a CURVE server in a
 * context of its own lets through only the keys its handler allows, asks again
 * on every handshake (so a reloaded list applies to the next connection),
 * refuses other domains and mechanisms, and survives requests that are not
 * well-formed. "Nothing arrived" is shown by order: an allowed peer sends
 * after the refused one, and its message is the first the server receives.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Context, Dealer, Pull, Push, curveKeyPair, type Socket } from 'zeromq'
import { curveClientOptions, curveServerOptions, type CurveIdentity } from '../../src/security/curve.js'
import { ZAP_ENDPOINT, ZapHandler, type ZapRefusal } from '../../src/security/zap.js'
import { z85Decode } from '../../src/security/z85.js'
import { waitFor } from '../helpers/processes.js'

const SERVER: CurveIdentity = curveKeyPair()

let sockets: Socket[] = []
let handlers: ZapHandler[] = []
afterEach(() => {
  for (const socket of sockets) socket.close()
  for (const handler of handlers) handler.close()
  sockets = []
  handlers = []
})

function track<S extends Socket>(socket: S): S {
  sockets.push(socket)
  return socket
}

interface Guarded {
  readonly context: Context
  readonly zap: ZapHandler
  readonly pull: Pull
  readonly endpoint: string
  readonly refusals: ZapRefusal[]
  readonly errors: unknown[]
}

/** A CURVE server PULL on SERVER's key, in a new context whose ZAP handler allows `allowed` (read on each handshake). */
async function guardedPull(allowed: Set<string>, zapDomain?: string): Promise<Guarded> {
  const context = new Context()
  const refusals: ZapRefusal[] = []
  const errors: unknown[] = []
  const zap = await ZapHandler.start(context, { allows: (key) => allowed.has(key), onRefused: (r) => refusals.push(r), onError: (e) => errors.push(e) })
  handlers.push(zap)
  const pull = track(new Pull({ context, linger: 0, receiveTimeout: 10_000, ...curveServerOptions(SERVER), ...(zapDomain === undefined ? {} : { zapDomain }) }))
  await pull.bind('tcp://127.0.0.1:*')
  return { context, zap, pull, endpoint: pull.lastEndpoint!, refusals, errors }
}

/** A CURVE client PUSH on `identity` that trusts `serverKey`, connected to `endpoint`, that has queued `text`. */
async function curvePush(endpoint: string, identity: CurveIdentity, text: string, serverKey = SERVER.publicKey): Promise<Push> {
  const push = track(new Push({ linger: 0, ...curveClientOptions(identity, serverKey) }))
  push.connect(endpoint)
  await push.send(text)
  return push
}

async function nextText(pull: Pull): Promise<string> {
  const [frame] = await pull.receive()
  return frame!.toString()
}

describe('a CURVE server whose context has a ZapHandler', () => {
  it('receives from an allowed key, and counts the handshake accepted', async () => {
    const client = curveKeyPair()
    const server = await guardedPull(new Set([client.publicKey]))
    await curvePush(server.endpoint, client, 'hello')
    expect(await nextText(server.pull)).toBe('hello')
    expect(server.zap.counts).toEqual({ accepted: 1, refused: 0 })
    expect(server.refusals).toEqual([])
  })

  it('refuses a key not on the list: its message never arrives, onRefused gets its key and address', async () => {
    const allowed = curveKeyPair()
    const stranger = curveKeyPair()
    const server = await guardedPull(new Set([allowed.publicKey]))
    await curvePush(server.endpoint, stranger, 'from the stranger')
    await waitFor(() => server.refusals.length > 0, 'the stranger to be refused')
    expect(server.refusals[0]).toEqual({ publicKey: stranger.publicKey, address: '127.0.0.1', mechanism: 'CURVE', reason: 'not allowed' })
    await curvePush(server.endpoint, allowed, 'from the allowed client')
    expect(await nextText(server.pull)).toBe('from the allowed client')
    expect(server.zap.counts).toEqual({ accepted: 1, refused: 1 })
  })

  it('asks on every handshake: a key added to the list later is accepted on its next connection', async () => {
    const client = curveKeyPair()
    const allowed = new Set<string>()
    const server = await guardedPull(allowed)
    const refused = await curvePush(server.endpoint, client, 'sent while refused')
    const failed = new Promise<void>((resolve) => refused.events.on('handshake:error:auth', () => resolve()))
    await waitFor(() => server.refusals.length > 0, 'the first refusal')
    await failed
    allowed.add(client.publicKey)
    // libzmq does not retry a connection that ZAP refused: the key works on a new one.
    await curvePush(server.endpoint, client, 'on a new connection')
    expect(await nextText(server.pull)).toBe('on a new connection')
    expect(server.zap.counts).toEqual({ accepted: 1, refused: 1 })
  })

  it('gives a plaintext client nothing', async () => {
    const allowed = curveKeyPair()
    const server = await guardedPull(new Set([allowed.publicKey]))
    const plain = track(new Push({ linger: 0 }))
    const failed = new Promise<string>((resolve) => plain.events.on('handshake:error:protocol', () => resolve('protocol')))
    plain.connect(server.endpoint)
    await plain.send('in the clear')
    // The mechanisms differ (NULL against CURVE), so the handshake fails before ZAP is asked.
    expect(await failed).toBe('protocol')
    await curvePush(server.endpoint, allowed, 'encrypted')
    expect(await nextText(server.pull)).toBe('encrypted')
    expect(server.refusals.filter((r) => r.mechanism !== 'CURVE')).toEqual([])
  })

  it('gives nothing to a client that expects another server key (the server proves its key)', async () => {
    const client = curveKeyPair()
    const server = await guardedPull(new Set([client.publicKey]))
    const failed = new Promise<void>((resolve) => server.pull.events.on('handshake:error:protocol', () => resolve()))
    const wrong = track(new Push({ linger: 0, ...curveClientOptions(client, curveKeyPair().publicKey) }))
    wrong.connect(server.endpoint)
    await wrong.send('to an impostor')
    // The server cannot open a HELLO sealed for another key: the handshake fails before ZAP.
    await failed
    await curvePush(server.endpoint, client, 'to the real server')
    expect(await nextText(server.pull)).toBe('to the real server')
    expect(server.zap.counts).toEqual({ accepted: 1, refused: 0 })
  })

  it("refuses a server socket of another ZAP domain in the handler's context", async () => {
    const client = curveKeyPair()
    const server = await guardedPull(new Set([client.publicKey]), 'not-cgw')
    await curvePush(server.endpoint, client, 'wrong domain')
    await waitFor(() => server.refusals.length > 0, 'the refusal')
    expect(server.refusals[0]).toMatchObject({ reason: 'wrong domain', publicKey: '' })
    expect(server.zap.counts.accepted).toBe(0)
  })

  it('refuses a plaintext (NULL) socket in ZAP domain cgw: only CURVE passes', async () => {
    const server = await guardedPull(new Set())
    const plainServer = track(new Pull({ context: server.context, linger: 0, zapDomain: 'cgw' }))
    await plainServer.bind('tcp://127.0.0.1:*')
    const plain = track(new Push({ linger: 0 }))
    plain.connect(plainServer.lastEndpoint!)
    await plain.send('null mechanism')
    await waitFor(() => server.refusals.length > 0, 'the refusal')
    expect(server.refusals[0]).toMatchObject({ reason: 'not CURVE', mechanism: 'NULL', publicKey: '' })
  })
})

describe('ZAP requests that are not well-formed', () => {
  it.each([
    ['a wrong version', ['0.9', '7', 'cgw', '127.0.0.1', '', 'CURVE', Buffer.alloc(32)]],
    ['too few frames', ['1.0', '7', 'cgw']],
  ])('%s: answered 400 "malformed request", counted, and the handler goes on serving', async (_, request) => {
    const client = curveKeyPair()
    const server = await guardedPull(new Set([client.publicKey]))
    const forger = track(new Dealer({ context: server.context, linger: 0, receiveTimeout: 5000 }))
    forger.connect(ZAP_ENDPOINT)
    await forger.send(['', ...request])
    const reply = (await forger.receive()).map((frame) => frame.toString())
    expect(reply.slice(0, 2)).toEqual(['', '1.0'])
    expect(reply.slice(3, 5)).toEqual(['400', 'malformed request'])
    expect(server.refusals).toEqual([expect.objectContaining({ reason: 'malformed request' })])
    await curvePush(server.endpoint, client, 'still served')
    expect(await nextText(server.pull)).toBe('still served')
    expect(server.errors).toEqual([])
  })

  it('a well-formed request for an allowed key is answered 200 with the key as user id', async () => {
    const client = curveKeyPair()
    const server = await guardedPull(new Set([client.publicKey]))
    const asker = track(new Dealer({ context: server.context, linger: 0, receiveTimeout: 5000 }))
    asker.connect(ZAP_ENDPOINT)
    await asker.send(['', '1.0', '42', 'cgw', '127.0.0.1', '', 'CURVE', z85Decode(client.publicKey)])
    const reply = (await asker.receive()).map((frame) => frame.toString())
    expect(reply.slice(1, 6)).toEqual(['1.0', '42', '200', 'OK', client.publicKey])
  })

  it('an onRefused that throws is reported to onError and the peer is still refused', async () => {
    const context = new Context()
    const errors: unknown[] = []
    const zap = await ZapHandler.start(context, {
      allows: () => false,
      onRefused: () => {
        throw new Error('log sink broken')
      },
      onError: (error) => errors.push(error),
    })
    handlers.push(zap)
    const pull = track(new Pull({ context, linger: 0, ...curveServerOptions(SERVER) }))
    await pull.bind('tcp://127.0.0.1:*')
    await curvePush(pull.lastEndpoint!, curveKeyPair(), 'refused')
    await waitFor(() => errors.length > 0, 'onError')
    expect(String(errors[0])).toContain('ZAP onRefused threw: log sink broken')
    expect(zap.counts.refused).toBeGreaterThanOrEqual(1)
    expect(zap.counts.accepted).toBe(0)
  })
})
