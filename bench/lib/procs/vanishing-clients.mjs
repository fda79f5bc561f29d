// C5 driver, written against CGP/1 with raw zeromq + msgpackr (no project
// code). Creates <count> short-lived clients one after another; each binds a
// fresh results PULL on a free loopback port, PUSHes one <batch>-command task
// to the intake, and closes its PULL at once (linger 0): it vanished before
// its result. After every <every> clients it prints `clients <n>` (the
// parent samples fds then) and runs one normal client that waits up to
// <timeoutMs> for its result, to show that the gateway still serves.
// Prints one JSON line at the end.
//   node vanishing-clients.mjs <intake> <address> <command> <count> <every> <batch> <timeoutMs>
import { randomUUID } from 'node:crypto'
import { Pull, Push } from 'zeromq'
import { Packr, Unpackr } from 'msgpackr'

const [intake, address, command] = process.argv.slice(2, 5)
const [count, every, batch, timeoutMs] = process.argv.slice(5, 9).map(Number)
const packr = new Packr({ useRecords: false })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true })
const body = packr.pack(Array.from({ length: batch }, () => [address, command]))

/** One client's sockets: a results PULL bound on a free port, a PUSH to the gateway. */
async function openClient() {
  const pull = new Pull({ linger: 0 })
  await pull.bind('tcp://127.0.0.1:*')
  // A PUSH of its own, as a separate client process would have; the linger lets
  // its one task leave after close() (a process exiting right after a send does the same).
  const push = new Push({ linger: 2000 })
  push.connect(intake)
  return { pull, push, replyTo: pull.lastEndpoint, client: `chaos-c5-${randomUUID()}` }
}

async function vanish(i) {
  const { pull, push, replyTo, client } = await openClient()
  await push.send([packr.pack({ v: 1, type: 'task', id: `v${i}`, client, replyTo, attempt: 1 }), body])
  pull.close() // gone before the result
  push.close()
}

const checks = { ok: 0, total: 0, ms: [], failures: [] }
let foreign = 0 // results for some other client's endpoint (a reused port): must be ignored

async function check(i) {
  const { pull, push, replyTo, client } = await openClient()
  pull.receiveTimeout = timeoutMs
  const id = `c${i}`
  const t0 = performance.now()
  checks.total++
  try {
    await push.send([packr.pack({ v: 1, type: 'task', id, client, replyTo, attempt: 1 }), body])
    for (;;) {
      const [headerFrame, bodyFrame] = await pull.receive() // throws EAGAIN after timeoutMs
      const header = unpackr.unpack(headerFrame)
      if (header.client !== client || header.id !== id) {
        foreign++
        continue
      }
      if (header.type === 'rejected') throw new Error(`rejected ${header.reason}`)
      const outcomes = unpackr.unpack(bodyFrame)
      if (outcomes.length !== batch || outcomes.some(([code]) => code !== 0)) throw new Error(`codes ${outcomes.map(([c]) => c).join(',')}`)
      checks.ok++
      checks.ms.push(performance.now() - t0)
      return
    }
  } catch (error) {
    checks.failures.push(`${id}: ${error.code === 'EAGAIN' ? `no result within ${timeoutMs} ms` : error.message}`)
  } finally {
    pull.close()
    push.close()
  }
}

const t0 = performance.now()
for (let i = 1; i <= count; i++) {
  await vanish(i)
  if (i % every === 0) {
    process.stdout.write(`clients ${i}\n`)
    await check(i)
  }
}
console.log(JSON.stringify({ clients: count, checks, foreign, elapsedMs: performance.now() - t0 }))
