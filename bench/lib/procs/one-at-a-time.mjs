// P4 client, written against CGP/1 with raw zeromq + msgpackr (no project
// code): PUSH connected to the gateway intake, PULL bound on a free loopback
// port as replyTo. Sends a 1-command task, waits for its result, repeats:
// <warm> untimed, then <count> timed. One client id, a fresh task id each time.
// Prints {samples} in microseconds. With CURVE (P4c): the gateway's public
// certificate and the client's secret one; the PUSH is then a CURVE client of
// the gateway, the PULL a CURVE server on the client's key, sent as replyKey.
//   node one-at-a-time.mjs <intake> <address> <command> <warm> <count> [<server.key> <client.key_secret>]
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Pull, Push } from 'zeromq'
import { Packr, Unpackr } from 'msgpackr'

const [intake, address, command] = process.argv.slice(2, 5)
const [warm, count] = [Number(process.argv[5]), Number(process.argv[6])]
const packr = new Packr({ useRecords: false })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true })
const client = `bench-p4-${randomUUID()}`
/** A key of a ZeroMQ certificate file (`public-key = "…"`), read the way pyzmq reads it. */
const certificateKey = (file, name) => new RegExp(`^\\s*${name}\\s*=\\s*"?([^"\\s]{40})"?`, 'm').exec(readFileSync(file, 'utf8'))?.[1]
const [serverFile, secretFile] = process.argv.slice(7, 9)
const curve =
  secretFile === undefined
    ? undefined
    : { serverKey: certificateKey(serverFile, 'public-key'), publicKey: certificateKey(secretFile, 'public-key'), secretKey: certificateKey(secretFile, 'secret-key') }
// A result lost (a handshake that never completes, say) ends the run with an error, not a hang.
const pull = new Pull({ receiveTimeout: 10_000, ...(curve === undefined ? {} : { curveServer: true, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey }) })
await pull.bind('tcp://127.0.0.1:*')
const replyTo = pull.lastEndpoint
const push = new Push(curve === undefined ? {} : { curveServerKey: curve.serverKey, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey })
push.connect(intake)
const replyKey = curve === undefined ? {} : { replyKey: curve.publicKey }
const body = packr.pack([[address, command]])
const samples = []
for (let i = 0; i < warm + count; i++) {
  const id = `t${i}`
  const t0 = performance.now()
  await push.send([packr.pack({ v: 1, type: 'task', id, client, replyTo, attempt: 1, ...replyKey }), body])
  for (;;) {
    const [headerFrame, bodyFrame] = await pull.receive()
    const header = unpackr.unpack(headerFrame)
    if (header.type === 'rejected') throw new Error(`task ${header.id} rejected: ${header.reason}`)
    if (header.type !== 'result' || header.id !== id) continue // a late duplicate: not ours to time
    const [[code]] = unpackr.unpack(bodyFrame)
    if (code !== 0) throw new Error(`task ${id}: result code ${code}, expected 0 (ok)`)
    break
  }
  if (i >= warm) samples.push((performance.now() - t0) * 1000)
}
console.log(JSON.stringify({ samples, client }))
push.close()
pull.close()
