#!/usr/bin/env node
// Per-command cost of the worker's BatchRunner on zero-wait commands, with and
// without the slot seam (CommandControl, `usesSlots`):
//   default    an executor without the flag: no control is made (the hot path
//              the seam must not slow down);
//   usesSlots  the flag set, the control never used: one object per command;
//   yield      every command gives its slot back and resumes at once: the
//              path of a command that waits on a per-address limit.
// With --before DIR (a dist/ built from an older commit), `default` also runs
// on that build, in the same process and interleaved: the before/after figure.
//
//   npm run build && node bench/micro/runner-slots.mjs [--commands 100000] [--runs 15] [--before /tmp/old-dist]
//
// Each run decodes and starts every batch as the worker does, then waits for
// idle(). Reported: µs per command, min and median of --runs runs after 3
// warm-up runs.
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { encode } from '../../dist/protocol/codec.js'
import { BatchRunner } from '../../dist/worker/batch-runner.js'
import { median } from './lib/measure.mjs'

const { values } = parseArgs({
  options: {
    commands: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '15' },
    before: { type: 'string' },
  },
})
const COMMANDS = Number(values.commands)
const RUNS = Number(values.runs)
const Before =
  values.before === undefined ? undefined : (await import(pathToFileURL(resolve(values.before, 'worker/batch-runner.js')).href)).BatchRunner

const plain = () => Promise.resolve(1)
const flagged = () => Promise.resolve(1)
flagged.usesSlots = true
const yielding = (_address, _command, _signal, control) => {
  control.yieldSlot()
  return control.resume().then(() => 1)
}
yielding.usesSlots = true

const sides = {
  default: { Runner: BatchRunner, executor: plain },
  ...(Before === undefined ? {} : { 'default (before)': { Runner: Before, executor: plain } }),
  usesSlots: { Runner: BatchRunner, executor: flagged },
  yield: { Runner: BatchRunner, executor: yielding },
}

/** The task bodies of one run, encoded once: decoding them is part of what the worker does per batch. */
function bodies(batchSize) {
  const made = []
  for (let done = 0, k = 0; done < COMMANDS; k++) {
    const size = Math.min(batchSize, COMMANDS - done)
    made.push(encode(Array.from({ length: size }, (_, i) => [`10.0.${k & 255}.${i & 255}`, 'foo'])))
    done += size
  }
  return made
}

async function once({ Runner, executor }, { clients, batchSize, limit }, encoded) {
  let settled = 0
  const runner = new Runner({ executor, concurrency: limit, commandTimeoutMs: 0, maxBatch: 100_000, onSettled: () => settled++ })
  const started = performance.now()
  for (let k = 0; k < encoded.length; k++) {
    const header = { v: 1, type: 'task', id: `t${k}`, client: `client-${k % clients}`, replyTo: 'tcp://127.0.0.1:1', attempt: 1 }
    runner.start(runner.decode(header, encoded[k], 1))
  }
  await runner.idle()
  const us = ((performance.now() - started) * 1000) / COMMANDS
  // idle() resolves at the last outcome; the slot it held goes back a microtask later.
  await new Promise((resolve) => setImmediate(resolve))
  if (settled !== encoded.length || runner.running !== 0 || runner.queued !== 0) throw new Error(`run did not settle: ${settled}, ${runner.running}, ${runner.queued}`)
  return us
}

const scenarios = [
  { name: '1 client, batches of 256, limit 1024 (saturated)', clients: 1, batchSize: 256, limit: 1024 },
  { name: '16 clients, batches of 256, limit 1024 (saturated)', clients: 16, batchSize: 256, limit: 1024 },
  { name: '1 client, batches of 256, never saturated', clients: 1, batchSize: 256, limit: COMMANDS },
]

console.log(`${COMMANDS} zero-wait commands per run, ${RUNS} runs after 3 warm-up runs (node ${process.version})`)
console.log('µs per command through BatchRunner: | scenario | ' + Object.keys(sides).join(' | ') + ' |')
for (const s of scenarios) {
  const encoded = bodies(s.batchSize)
  const labels = Object.keys(sides)
  const figures = Object.fromEntries(labels.map((label) => [label, []]))
  for (let r = 0; r < RUNS + 3; r++) {
    // Interleaved, alternating the order, so drift hits every side alike.
    for (const label of r % 2 === 0 ? labels : [...labels].reverse()) {
      const us = await once(sides[label], s, encoded)
      if (r >= 3) figures[label].push(us)
    }
  }
  const cells = labels.map((label) => `${median(figures[label]).toFixed(3)} (min ${Math.min(...figures[label]).toFixed(3)})`)
  console.log(`| ${s.name} | ${cells.join(' | ')} |`)
}
