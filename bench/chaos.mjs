#!/usr/bin/env node
// npm run chaos [-- --quick] [-- --only C1,C5,C6,C11,H] [-- --seed N]
//
// Fault injection against the real CLIs, one markdown row per figure; raw
// numbers go to bench/results/chaos.json. Every process it starts is killed
// on exit, failure or Ctrl+C (bench/lib/proc.mjs).
//
//   C1   worker churn: a random worker SIGKILLed every 200 ms during a run (chaos-churn.mjs)
//   C5   vanishing clients: tasks whose replyTo closes before the result (chaos-vanish.mjs)
//   C6   garbage on the intake and the worker port, then a normal run (chaos-garbage.mjs)
//   C11  Ctrl+C to the gateway's group under load, repeated (chaos-ctrlc.mjs)
//   H    hostile peers, as real processes (tests/fixtures/): a flood of tasks with
//        unreachable replyTos, a greedy / re-ready / hoarding rogue worker, a big
//        client's backlog ahead of a small one (chaos-hostile.mjs)
//
// --quick keeps the C scenarios under a minute and H under ~90 s (smaller counts,
// fewer runs, 10 s floods); the full H takes about 5 minutes.
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { c1 } from './lib/chaos-churn.mjs'
import { c5 } from './lib/chaos-vanish.mjs'
import { c6 } from './lib/chaos-garbage.mjs'
import { c11 } from './lib/chaos-ctrlc.mjs'
import { h } from './lib/chaos-hostile.mjs'
import { root } from './lib/proc.mjs'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    seed: { type: 'string', default: '20240601' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  console.log(`usage: node bench/chaos.mjs [--quick] [--only C1,C5,C6,C11,H] [--seed N]

  C1   worker churn: a random worker SIGKILLed every 200 ms during a run
  C5   vanishing clients: tasks whose replyTo closes before the result
  C6   garbage on the intake and the worker port, then a normal run
  C11  Ctrl+C to the gateway's group under load, repeated
  H    hostile peers (tests/fixtures/ attackers): H1 flood of tasks with unreachable
       replyTos, H3 greedy rogue worker, H4 repeated ready, H5 hoarding rogue,
       H7 a big client's backlog ahead of a small one

  --quick  shorter: C under a minute, H under ~90 s (full H: about 5 minutes)`)
  process.exit(0)
}

const SCENARIOS = [
  { id: 'C1', name: 'worker churn', fn: c1 },
  { id: 'C5', name: 'vanishing clients', fn: c5 },
  { id: 'C6', name: 'garbage', fn: c6 },
  { id: 'C11', name: 'Ctrl+C, repeated', fn: c11 },
  { id: 'H', name: 'hostile peers', fn: h },
]
const known = SCENARIOS.map((s) => s.id)
const wanted = (values.only ?? known.join(',')).split(',').map((s) => s.trim().toUpperCase()).filter(Boolean)
for (const id of wanted) if (!known.includes(id)) throw new Error(`--only: unknown scenario ${id}; known: ${known.join(', ')}`)
const seed = Number(values.seed)
if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`)
const options = { quick: values.quick, seed }

const began = performance.now()
const log = (message) => console.error(`[chaos ${((performance.now() - began) / 1000).toFixed(1)} s] ${message}`)
const rows = []
const raw = {}
let failed = false

for (const scenario of SCENARIOS.filter((s) => wanted.includes(s.id))) {
  log(`${scenario.id} ${scenario.name}`)
  const t0 = performance.now()
  try {
    const result = await scenario.fn(options)
    rows.push(...result.rows)
    raw[scenario.id] = { ...result.raw, durationMs: performance.now() - t0 }
  } catch (error) {
    // Fail loudly, keep the other scenarios.
    console.error(`${scenario.id} failed:`, error)
    rows.push({ id: scenario.id, figure: scenario.name, measured: `FAILED: ${String(error?.message ?? error).split('\n')[0].replaceAll('|', '/')}`, expected: '—', met: 'no' })
    raw[scenario.id] = { error: String(error?.stack ?? error), durationMs: performance.now() - t0 }
  }
  log(`${scenario.id} took ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}
if (rows.some((r) => r.met === 'no')) failed = true

const durationMs = performance.now() - began
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`
console.log(`machine: ${machine}`)
console.log(`mode: ${values.quick ? 'quick' : 'full'}, seed ${seed}, took ${(durationMs / 1000).toFixed(1)} s`)
console.log('| id | figure | measured | expected | met |')
console.log('|---|---|---|---|---|')
for (const r of rows) console.log(`| ${r.id} | ${r.figure} | ${r.measured} | ${r.expected} | ${r.met} |`)
mkdirSync(join(root, 'bench', 'results'), { recursive: true })
writeFileSync(
  join(root, 'bench', 'results', 'chaos.json'),
  JSON.stringify({ machine, date: new Date().toISOString(), mode: values.quick ? 'quick' : 'full', seed, durationMs, rows, raw }, null, 2),
)
console.log('raw results: bench/results/chaos.json')
if (failed) {
  console.error('chaos: some figures missed their expectation (met = no)')
  process.exitCode = 1
}
