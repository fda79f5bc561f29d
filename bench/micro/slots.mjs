#!/usr/bin/env node
// Per-command cost of the worker's concurrency limiter on zero-wait commands:
// p-queue (the library it replaces: one add() per command), the old
// CommandSlots (one FIFO of closures) and FairSlots (round-robin across
// clients, then batches; a batch is one entry started by index).
//
//   npm run build && node bench/micro/slots.mjs [--commands 100000] [--runs 15] [--limit 1024]
//
// Each side is driven the way the worker drives it: old, one closure per
// command calling runInto(batch, i, address, command); new, one enqueue per
// batch and startCommand(i) calling runInto(batch, i). runInto is the same
// zero-wait body for both: an executor that resolves at once, then settle.
// Reported: µs per command over the run until every command has settled,
// min and median of --runs runs after 3 warm-up runs.
import { parseArgs } from 'node:util'
import PQueue from 'p-queue'
import { CommandSlots } from '../../dist/worker/command-slots.js'
import { FairSlots } from '../../dist/worker/fair-slots.js'

const { values } = parseArgs({
  options: {
    commands: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '15' },
    limit: { type: 'string', default: '1024' },
  },
})
const COMMANDS = Number(values.commands)
const RUNS = Number(values.runs)
const LIMIT = Number(values.limit)

/** Batches as the worker holds them: pairs, outcomes, a countdown; `onDone` when all settled. */
function makeBatches(clients, batchSize) {
  const batches = []
  for (let made = 0, k = 0; made < COMMANDS; k++) {
    const size = Math.min(batchSize, COMMANDS - made)
    const pairs = Array.from({ length: size }, (_, i) => [`10.0.${k & 255}.${i & 255}`, 'foo'])
    batches.push({ client: `client-${k % clients}`, pairs, outcomes: new Array(size), remaining: size, size })
    made += size
  }
  return batches
}

const executor = () => Promise.resolve(1)

function scenario(name, clients, batchSize, limit) {
  return { name, clients, batchSize, limit }
}

async function once(kind, { clients, batchSize, limit }) {
  const batches = makeBatches(clients, batchSize)
  let left = batches.length
  let resolveAll
  const all = new Promise((resolve) => (resolveAll = resolve))
  const settle = (batch, i, outcome) => {
    batch.outcomes[i] = outcome
    if (--batch.remaining === 0 && --left === 0) resolveAll()
  }
  const started = performance.now()
  if (kind === 'p-queue') {
    const queue = new PQueue({ concurrency: limit })
    const runInto = (batch, i, address, command) =>
      Promise.resolve(executor(address, command)).then((value) => settle(batch, i, [0, value]), (error) => settle(batch, i, [2, String(error)]))
    for (const batch of batches) {
      for (let i = 0; i < batch.size; i++) {
        const pair = batch.pairs[i]
        void queue.add(() => runInto(batch, i, pair[0], pair[1]))
      }
    }
  } else if (kind === 'old') {
    const slots = new CommandSlots(limit)
    const runInto = (batch, i, address, command) =>
      Promise.resolve(executor(address, command)).then((value) => settle(batch, i, [0, value]), (error) => settle(batch, i, [2, String(error)]))
    for (const batch of batches) {
      for (let i = 0; i < batch.size; i++) {
        const pair = batch.pairs[i]
        slots.run(() => runInto(batch, i, pair[0], pair[1]))
      }
    }
  } else {
    const slots = new FairSlots(limit)
    const runInto = (batch, i) => {
      const [address, command] = batch.pairs[i]
      return Promise.resolve(executor(address, command)).then((value) => settle(batch, i, [0, value]), (error) => settle(batch, i, [2, String(error)]))
    }
    for (const batch of batches) {
      batch.startCommand = (i) => runInto(batch, i)
      slots.enqueue(batch.client, batch, batch.size)
    }
  }
  await all
  return ((performance.now() - started) * 1000) / COMMANDS
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

const scenarios = [
  scenario('1 client, batches of 256, saturated', 1, 256, LIMIT),
  scenario('16 clients, batches of 256, saturated', 16, 256, LIMIT),
  scenario('4 clients, batches of 10 000, saturated', 4, 10_000, LIMIT),
  scenario('1 client, batches of 256, never saturated', 1, 256, COMMANDS),
]

console.log(`${COMMANDS} zero-wait commands per run, ${RUNS} runs after 3 warm-up runs, limit ${LIMIT} (node ${process.version})`)
console.log('µs per command: p-queue (library), old = CommandSlots (FIFO), new = FairSlots (fair order); ratio = p-queue / FairSlots')
for (const s of scenarios) {
  const figures = { 'p-queue': [], old: [], new: [] }
  // Interleaved, so drift (other load, heap growth) hits both sides alike.
  for (let r = 0; r < RUNS + 3; r++) {
    for (const kind of r % 2 === 0 ? ['p-queue', 'old', 'new'] : ['new', 'old', 'p-queue']) {
      const us = await once(kind, s)
      if (r >= 3) figures[kind].push(us)
    }
  }
  const f = (xs) => `min ${Math.min(...xs).toFixed(3)} · median ${median(xs).toFixed(3)}`
  const ratio = (median(figures['p-queue']) / median(figures.new)).toFixed(1)
  console.log(`${s.name}\n  p-queue ${f(figures['p-queue'])}\n  old ${f(figures.old)}\n  new ${f(figures.new)}\n  p-queue / FairSlots ${ratio}×`)
}
