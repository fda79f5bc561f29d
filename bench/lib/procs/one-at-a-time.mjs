// P4 client, written against CGP/1 with raw zeromq + msgpackr (no project
// code): PUSH connected to the gateway intake, PULL bound on a free loopback
// port as replyTo. Sends a 1-command task, waits for its result, repeats:
// <warm> untimed, then <count> timed. One client id, a fresh task id each time.
// Prints {samples} in microseconds.
//   node one-at-a-time.mjs <intake> <address> <command> <warm> <count>
import { randomUUID } from 'node:crypto'
import { Pull, Push } from 'zeromq'
import { Packr, Unpackr } from 'msgpackr'

const [intake, address, command] = process.argv.slice(2, 5)
const [warm, count] = [Number(process.argv[5]), Number(process.argv[6])]
const packr = new Packr({ useRecords: false })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true })
const client = `bench-p4-${randomUUID()}`
const pull = new Pull()
await pull.bind('tcp://127.0.0.1:*')
const replyTo = pull.lastEndpoint
const push = new Push()
push.connect(intake)
const body = packr.pack([[address, command]])
const samples = []
for (let i = 0; i < warm + count; i++) {
  const id = `t${i}`
  const t0 = performance.now()
  await push.send([packr.pack({ v: 1, type: 'task', id, client, replyTo, attempt: 1 }), body])
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
