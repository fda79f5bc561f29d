// B1 sender: PUSH connected to the receiver; sends <batches> msgpackr-encoded
// task-like messages of <size> small [address, command] pairs, as fast as the
// socket takes them.
//   node one-hop-send.mjs <endpoint> <size> <batches>
import { Push } from 'zeromq'
import { Packr } from 'msgpackr'

const [endpoint, size, batches] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])]
const packr = new Packr({ useRecords: false })
const push = new Push({ sendHighWaterMark: 1000 })
push.connect(endpoint)
const pairs = Array.from({ length: size }, (_, i) => [`137.72.95.${i % 256}`, 'foo'])
// Encode per batch, as a real sender would.
for (let i = 0; i < batches; i++) await push.send([packr.pack({ v: 1, type: 'task', id: String(i) }), packr.pack(pairs)])
push.linger = 5000
push.close()
