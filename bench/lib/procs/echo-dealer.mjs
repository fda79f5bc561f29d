// B2 client: DEALER connected to the echo ROUTER; one task-sized message at a
// time, <warm> round trips not counted, then <count> timed ones. Prints
// {samples} in microseconds.
//   node echo-dealer.mjs <endpoint> <warm> <count>
import { Dealer } from 'zeromq'
import { Packr } from 'msgpackr'

const [endpoint, warm, count] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])]
const packr = new Packr({ useRecords: false })
const dealer = new Dealer()
dealer.connect(endpoint)
const body = packr.pack([['137.72.95.0', 'foo']])
const samples = []
for (let i = 0; i < warm + count; i++) {
  const header = packr.pack({ v: 1, type: 'task', id: String(i), client: 'bench-echo', replyTo: 'tcp://127.0.0.1:1', attempt: 1 })
  const t0 = performance.now()
  await dealer.send([header, body])
  await dealer.receive()
  if (i >= warm) samples.push((performance.now() - t0) * 1000)
}
console.log(JSON.stringify({ samples }))
dealer.close()
