/**
 * CURVE peers played by hand for the tests of the connecting side (clients,
 * workers, status requests): certificates in a temporary directory, raw
 * zeromq sockets bound as CURVE servers each in a Context of its own with
 * its own allow-list, and a raw gateway made of them (a CURVE intake PULL
 * and a CURVE worker ROUTER) that hands every task it receives to a ready
 * worker, byte for byte, as CGP/1's gateway does.
 */
import { Context, Pull, Reply, Router, type Socket } from 'zeromq'
import { readSecretCertificate, writeCertificatePair } from '../../dist/security/certificates.js'
import { ZapHandler, type ZapRefusal } from '../../dist/security/zap.js'
import { decodeMessage, enc, type Header } from './independent-cgp.js'

/** A certificate pair on disk, and its keys for the raw sockets of the test. */
export interface TestCertificate {
  readonly publicFile: string
  readonly secretFile: string
  readonly publicKey: string
  readonly secretKey: string
}

/** Writes `NAME.key` and `NAME.key_secret` into `dir` for every name. */
export async function certificates<const N extends string>(dir: string, names: readonly N[]): Promise<Record<N, TestCertificate>> {
  const out = {} as Record<N, TestCertificate>
  for (const name of names) {
    const pair = await writeCertificatePair(dir, name)
    const { secretKey } = await readSecretCertificate(pair.secretFile)
    out[name] = { ...pair, secretKey }
  }
  return out
}

/** Registers something to close after the test. */
export type Track = <T extends { close(): void }>(closable: T) => T

export interface CurveServer<S> {
  readonly socket: S
  readonly endpoint: string
  /** Connections the allow-list refused, in order. */
  readonly refused: ZapRefusal[]
  /** Handshakes accepted and refused so far (no allow-list: both stay 0). */
  counts(): { accepted: number; refused: number }
}

type ServerSocket = Pull | Router | Reply

/**
 * A socket bound on tcp://127.0.0.1:* as a CURVE server on `identity`, in a
 * Context of its own; with `allow`, a ZAP handler there admits only those keys.
 */
export async function curveServer<S extends ServerSocket>(
  make: (options: ConstructorParameters<typeof Pull>[0] & object) => S,
  identity: TestCertificate,
  track: Track,
  allow?: readonly string[],
): Promise<CurveServer<S>> {
  const context = new Context()
  const refused: ZapRefusal[] = []
  const zap = allow === undefined ? undefined : track(await ZapHandler.start(context, { allows: (key: string) => allow.includes(key), onRefused: (r: ZapRefusal) => refused.push(r) }))
  const socket = track(make({ context, linger: 0, curveServer: true, curvePublicKey: identity.publicKey, curveSecretKey: identity.secretKey, zapDomain: 'cgw' }))
  await (socket as Socket & { bind(endpoint: string): Promise<void> }).bind('tcp://127.0.0.1:*')
  return { socket, endpoint: socket.lastEndpoint!, refused, counts: () => zap?.counts ?? { accepted: 0, refused: 0 } }
}

/** What the raw gateway saw. */
export interface RawGateway {
  readonly intake: CurveServer<Pull>
  readonly workerPort: CurveServer<Router>
  /** Every task header read from the intake, in order. */
  readonly tasks: Header[]
  /** Every abort header read from the intake. */
  readonly aborts: Header[]
  /** Every message header a worker sent, in order. */
  readonly fromWorkers: Header[]
  /** Sends `header` (and `body`) to the worker that said ready last. */
  toWorker(header: Header, body?: Buffer): Promise<void>
}

/**
 * A CGP/1 gateway reduced to its wires, over CURVE on `gateway`'s key: tasks
 * from clients in `clients` go, untouched, to the last worker (of `workers`)
 * that said ready. No queue: a test sends what the worker can hold.
 */
export async function rawGateway(gateway: TestCertificate, track: Track, allow: { clients?: readonly string[]; workers?: readonly string[] } = {}): Promise<RawGateway> {
  const intake = await curveServer((o) => new Pull(o), gateway, track, allow.clients)
  const workerPort = await curveServer((o) => new Router(o), gateway, track, allow.workers)
  const tasks: Header[] = []
  const aborts: Header[] = []
  const fromWorkers: Header[] = []
  let latest: Buffer | undefined
  const waiting: Buffer[][] = []
  const toWorker = async (header: Header, body?: Buffer): Promise<void> => {
    const frames = body === undefined ? [enc(header)] : [enc(header), body]
    if (latest === undefined) waiting.push(frames)
    else await workerPort.socket.send([latest, ...frames])
  }
  void (async () => {
    for await (const [identity, ...frames] of workerPort.socket) {
      const header = decodeMessage(frames).header ?? {}
      fromWorkers.push(header)
      // Answered as a gateway would, so the worker does not count this gateway as lost after
      // its liveness and reconnect under a new identity, which would drop a task sent meanwhile.
      if (header.type === 'heartbeat') await workerPort.socket.send([identity!, enc({ v: 1, type: 'heartbeat' })])
      if (header.type === 'ready') {
        latest = identity
        for (const held of waiting.splice(0)) await workerPort.socket.send([identity!, ...held])
      }
    }
  })().catch(() => undefined)
  void (async () => {
    for await (const frames of intake.socket) {
      const header = decodeMessage(frames).header ?? {}
      if (header.type === 'abort') aborts.push(header)
      if (header.type !== 'task') continue
      tasks.push(header)
      // Forwarded as the gateway does: the header's fields, the body frame byte for byte.
      if (latest === undefined) waiting.push(frames)
      else await workerPort.socket.send([latest, ...frames])
    }
  })().catch(() => undefined)
  return { intake, workerPort, tasks, aborts, fromWorkers, toWorker }
}
