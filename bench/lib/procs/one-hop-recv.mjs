// B1 receiver: PULL bound on a free loopback port; decodes every batch (as the
// gateway must) and prints {ms} for batches 2..N (the first starts the clock,
// so connection set-up is not counted).
//   node one-hop-recv.mjs <batches>
import { Pull } from 'zeromq'
import { Unpackr } from 'msgpackr'

const batches = Number(process.argv[2])
const unpackr = new Unpackr({ mapsAsObjects: true })
const pull = new Pull()
await pull.bind('tcp://127.0.0.1:*')
console.log(`listening ${pull.lastEndpoint}`)
let n = 0
let t0 = 0
let objects = 0
for await (const [header, body] of pull) {
  if (n === 0) t0 = performance.now()
  unpackr.unpack(header)
  const pairs = unpackr.unpack(body)
  if (n > 0) objects += pairs.length
  if (++n === batches) break
}
const ms = performance.now() - t0
console.log(JSON.stringify({ ms, objects, batches }))
pull.close()
