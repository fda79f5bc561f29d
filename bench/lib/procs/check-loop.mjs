// The baselines of X1–X3: the bare Node loop each kind of check stands on, at
// a fixed concurrency, with nothing of the product around it.
//   node check-loop.mjs exec  COUNT CONCURRENCY PROGRAM [ARG...]   spawn, first stdout line
//   node check-loop.mjs tcp   COUNT CONCURRENCY PORT               net.connect, then destroy
//   node check-loop.mjs fetch COUNT CONCURRENCY URL                fetch, body read
// Prints `ready`, waits for a line on stdin (so that several loops start
// together), runs, and prints {"ms", "ok"}.
import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { createInterface } from 'node:readline'

const [kind, countText, concurrencyText, ...rest] = process.argv.slice(2)
const count = Number(countText)
const concurrency = Number(concurrencyText)

const once = {
  exec: () =>
    new Promise((resolve) => {
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
      const socket = connect({ host: '127.0.0.1', port: Number(rest[0]) })
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

console.log('ready')
await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve))
const started = performance.now()
let next = 0
let ok = 0
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next++
      if (await once()) ok++
    }
  }),
)
console.log(JSON.stringify({ ms: performance.now() - started, ok }))
process.exit(0)
