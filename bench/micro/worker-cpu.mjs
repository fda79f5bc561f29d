#!/usr/bin/env node
// CPU of one worker process per zero-wait command, everything included that a
// forked worker does per batch: the task read off its DEALER, decoded and run
// through BatchRunner and the device-map executor, the result encoded and
// PUSHed to the client, `done` to the gateway. This file plays the gateway (a
// ROUTER that hands out batches of 256 as credit frees) and the client (a PULL
// that counts results); the worker is a child process (lib/worker-child.mjs)
// whose own process.cpuUsage() after warm-up is the figure, so the load this
// process adds is not counted.
//
// With --before DIR (the root of an older checkout, built), that build's
// worker runs too, interleaved and alternating which goes first: the
// before/after figure, as wall-clock end-to-end rows are too noisy on a shared
// 2-core machine to show a few percent.
//
//   npm run build && node bench/micro/worker-cpu.mjs [--commands 512000] [--runs 8] [--before /path/to/old-checkout]
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Pull, Router } from 'zeromq'
import { decodeTrusted, encode } from '../../dist/protocol/codec.js'
import { median } from './lib/measure.mjs'

const { values } = parseArgs({
  options: {
    commands: { type: 'string', default: '512000' },
    runs: { type: 'string', default: '8' },
    before: { type: 'string' },
  },
})
const BATCH = 256
const COMMANDS = Math.ceil(Number(values.commands) / BATCH) * BATCH
const RUNS = Number(values.runs)
const here = fileURLToPath(new URL('.', import.meta.url))
const sides = { after: resolve(here, '../..'), ...(values.before === undefined ? {} : { before: resolve(values.before) }) }

// 512 known devices answering at once, as the bench's zero-wait files.
const dir = mkdtempSync(join(tmpdir(), 'cgw-worker-cpu-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
const devices = Array.from({ length: 512 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1`)
const mapFile = join(dir, 'devices.txt')
writeFileSync(mapFile, devices.map((address, i) => `${address}:foo:${i}:0\n`).join(''))
const bodies = [0, 1].map((half) => encode(devices.slice(half * BATCH, (half + 1) * BATCH).map((address) => [address, 'foo'])))

const results = new Pull()
await results.bind('tcp://127.0.0.1:*')
let received = 0
void (async () => {
  for await (const _ of results) received++
})()

/** One run: a fresh worker of `root` takes COMMANDS commands; resolves with its CPU in ms. */
async function once(root) {
  const router = new Router({ linger: 0 })
  await router.bind('tcp://127.0.0.1:*')
  const child = fork(join(here, 'lib/worker-child.mjs'), [root, router.lastEndpoint, mapFile], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const reply = () => new Promise((resolve) => child.once('message', resolve))
  await reply() // serving
  const batches = COMMANDS / BATCH
  const first = received
  let sent = 0
  let done = 0
  let capacity = 0
  let identity
  const feed = async () => {
    while (sent < batches && sent - done < capacity) {
      const header = encode({ v: 1, type: 'task', id: `b${sent}`, client: 'bench', replyTo: results.lastEndpoint, attempt: 1 })
      await router.send([identity, header, bodies[sent++ & 1]])
    }
  }
  for await (const [from, frame] of router) {
    const header = decodeTrusted(frame)
    if (header.type === 'ready') {
      identity = from
      capacity = header.capacity
    } else if (header.type === 'done' && ++done === batches) break
    await feed()
  }
  // `done` follows the result's hand-over to ZeroMQ, not its arrival.
  while (received - first < batches) await new Promise((resolve) => setTimeout(resolve, 1))
  child.send('cpu')
  const { userMs, sysMs } = await reply()
  child.send('stop')
  await new Promise((resolve) => child.once('exit', resolve))
  router.close()
  return userMs + sysMs
}

const figures = Object.fromEntries(Object.keys(sides).map((label) => [label, []]))
await once(sides.after) // a first run warms this process's sockets
for (let r = 0; r < RUNS; r++) {
  const labels = r % 2 === 0 ? Object.keys(sides) : Object.keys(sides).reverse()
  for (const label of labels) figures[label].push(await once(sides[label]))
}
results.close()

const us = (ms) => ((ms * 1000) / COMMANDS).toFixed(3)
console.log(`one worker process, ${COMMANDS} zero-wait commands in batches of ${BATCH}, CPU after warm-up, ${RUNS} runs (node ${process.version})`)
console.log('| build | µs CPU per command, median (min) |')
console.log('|---|---|')
for (const [label, root] of Object.entries(sides)) {
  console.log(`| ${label} (${root}) | ${us(median(figures[label]))} (${us(Math.min(...figures[label]))}) |`)
}
if (sides.before !== undefined) console.log(`after / before: ${(median(figures.after) / median(figures.before)).toFixed(3)}`)
process.exit(0)
