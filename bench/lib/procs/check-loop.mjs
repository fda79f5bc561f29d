// The baselines of X1–X3: the bare Node loop each kind of check stands on, at
// a fixed concurrency, with nothing of the product around it.
//   node check-loop.mjs exec  CONCURRENCY PROGRAM [ARG...]   spawn, first stdout line
//   node check-loop.mjs tcp   CONCURRENCY PORT               net.connect, then destroy
//   node check-loop.mjs fetch CONCURRENCY URL                fetch, body read
// Prints `ready`, then for each line `go COUNT [PORT]` on stdin runs COUNT
// rounds (against PORT instead, for tcp) and prints {"ms", "ok", "cpuUs"}:
// cpuUs is this process's CPU time (user + system) over that loop alone. One
// process serves the warm-up and every measured run of a scenario, as one
// gateway does on the product's side, so both sides are as warm (JIT) run
// after run. Exits at the end of its input.
import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { createInterface } from 'node:readline'

const [kind, concurrencyText, ...rest] = process.argv.slice(2)
const concurrency = Number(concurrencyText)

const once = {
  exec: () =>
    new Promise((resolve) => {
      // As the exec kind spawns a plugin: its own process group, the minimal environment, stdout only.
      const child = spawn(rest[0], rest.slice(1), { stdio: ['ignore', 'pipe', 'ignore'], detached: true, env: { PATH: process.env.PATH, LC_ALL: 'C' } })
      let first = ''
      child.stdout.on('data', (d) => {
        if (first.length < 1024) first += d
      })
      child.once('error', () => resolve(false))
      child.once('close', (code) => resolve(code === 0 && first.length > 0))
    }),
  tcp: () =>
    new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port })
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    }),
  fetch: async () => {
    try {
      const response = await fetch(rest[0])
      await response.arrayBuffer()
      return response.status === 200
    } catch {
      return false
    }
  },
}[kind]
if (once === undefined) throw new Error(`unknown kind ${kind}`)
/** The tcp loop's port: its argument, then each `go` line's. */
let port = Number(rest[0])

/** Runs `total` of `once`, `concurrency` at a time; resolves with how many were ok. */
async function loop(total) {
  let next = 0
  let ok = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++
        if (await once()) ok++
      }
    }),
  )
  return ok
}

console.log('ready')
for await (const line of createInterface({ input: process.stdin })) {
  const [go, countText, portText] = line.trim().split(' ')
  if (go !== 'go') throw new Error(`expected "go COUNT [PORT]", got ${JSON.stringify(line)}`)
  if (portText !== undefined) port = Number(portText)
  const cpu = process.cpuUsage()
  const started = performance.now()
  const ok = await loop(Number(countText))
  const ms = performance.now() - started
  const { user, system } = process.cpuUsage(cpu)
  console.log(JSON.stringify({ ms, ok, cpuUs: user + system }))
}
process.exit(0)
