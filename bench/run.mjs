#!/usr/bin/env node
// npm run bench [-- --quick] [-- --only P1,P2,...] [-- --runs N]
//
// Runs the scenarios of the performance issue and prints one markdown row per
// figure, each next to a baseline measured in the same run (these 2-core
// machines are noisy and only ratios travel between machines and commits).
// Raw numbers go to bench/results/latest.json.
//
//   B1   raw one-hop PUSH→PULL of msgpackr batches (objects/s), at 256 and 16
//   B2   raw DEALER→ROUTER echo latency, one message at a time (µs)
//   P1   seed: 512 × 1 s, batch 16, first client run after a gateway start (wall.mjs)
//   P2   zero-wait throughput, batch 256, vs B1@256 (throughput.mjs)
//   P3   the same at batch 16, vs B1@16 (throughput.mjs)
//   P4   one command at a time, p50/p99, vs B2 (latency.mjs)
//   P5   client peak RSS (P5a) and gateway RSS over a big run (P5b) (memory.mjs)
//   P6   100 000 concurrent 1 s commands, client wall (wall.mjs)
//   P7   scaling with workers and with concurrent clients (throughput.mjs)
//   P2c  P2 with CURVE on every link, vs P2 plaintext in the same run (curve.mjs)
//   P4c  P4 with CURVE on every link, p50 vs P4 plaintext in the same run (curve.mjs)
//   X1–X3 real checks: exec, tcp and http, against bare spawn / net.connect / fetch loops (checks.mjs)
//   S1–S3 time to zero processes after Ctrl+C / SIGTERM / SIGKILL under load (stop.mjs)
//
// --only takes ids (P5 and P7 select all their rows, S all stop rows) and the
// old names: seed = P1, throughput = P2, stop = S1,S2,S3; curve = P2c,P4c.
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { echoLatency, oneHop } from './lib/baselines.mjs'
import { checks } from './lib/checks.mjs'
import { p2c, p4c } from './lib/curve.mjs'
import { p4 } from './lib/latency.mjs'
import { p5 } from './lib/memory.mjs'
import { fmtInt, root } from './lib/proc.mjs'
import { stop } from './lib/stop.mjs'
import { p2, p3, p7 } from './lib/throughput.mjs'
import { p1, p6 } from './lib/wall.mjs'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  console.log('usage: node bench/run.mjs [--quick] [--only P1,P2,...|seed,throughput,stop,curve] [--runs N]')
  process.exit(0)
}
const quick = values.quick
const runs = Number(values.runs ?? (quick ? 3 : 7))
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`)

// Baselines, measured once each, only when a selected scenario needs them.
const BASELINES = {
  b1_256: { id: 'B1@256', measure: () => oneHop(256, quick ? 200_000 : 1_000_000) },
  b1_16: { id: 'B1@16', measure: () => oneHop(16, quick ? 50_000 : 200_000) },
  b2: { id: 'B2', measure: () => echoLatency(200, 3000) },
}

// Scenario groups: the ids of the rows they produce, the baselines they need, and the function.
const GROUPS = [
  { ids: ['P1'], needs: [], fn: p1 },
  { ids: ['P2'], needs: ['b1_256'], fn: p2 },
  { ids: ['P3'], needs: ['b1_16'], fn: p3 },
  { ids: ['P4'], needs: ['b2'], fn: p4 },
  { ids: ['P5a', 'P5b'], needs: [], fn: p5 },
  { ids: ['P6'], needs: [], fn: p6 },
  { ids: ['P7.w1', 'P7.w2', 'P7.w4', 'P7.c1', 'P7.c4', 'P7.c16'], needs: ['b1_256'], fn: p7 },
  { ids: ['P2c'], needs: [], fn: p2c },
  { ids: ['P4c'], needs: [], fn: p4c },
  { ids: ['X1', 'X2', 'X3'], needs: [], fn: checks },
  { ids: ['S1', 'S2', 'S3'], needs: [], fn: stop },
]

// What each row is and its goal, for rows whose scenario failed before it could say.
const GOALS = {
  P1: ['seed: 512 × 1 s, batch 16, `run-server … 32`', 'wall ≤ 1.050 s'],
  P2: ['zero-wait throughput, batch 256', 'ratio ≥ 1/3'],
  P3: ['zero-wait throughput, batch 16', 'ratio ≥ 1/4'],
  P4: ['one command at a time', 'p50 ≤ 2 × echo p50 and p99 ≤ 1000 µs'],
  P5a: ['client memory, big file', 'peak ≤ 120.0 MB'],
  P5b: ['gateway memory, big file', 'flat: end ≤ start + 20 MB'],
  P6: ['concurrent 1 s commands', 'wall ≤ 1.300 s'],
  P2c: ['P2 with CURVE on every link', 'ratio ≥ 0.7 × P2 plaintext'],
  P4c: ['P4 with CURVE on every link', 'p50 ≤ 1.3 × P4 plaintext'],
  X1: ['exec checks vs a bare spawn loop', 'ratio ≤ 1.1'],
  X2: ['tcp checks vs a bare net.connect loop', 'ratio ≥ 0.5'],
  X3: ['http checks vs a bare fetch loop', 'ratio ≥ 0.5'],
  S1: ['stop under load: Ctrl+C to the group', '≤ 3 s, none left'],
  S2: ['stop under load: SIGTERM', '≤ 3 s, none left'],
  S3: ['stop under load: SIGKILL', '≤ 3 s, none left'],
}

const ALIASES = { seed: ['P1'], throughput: ['P2'], stop: ['S1', 'S2', 'S3'], s: ['S1', 'S2', 'S3'], p5: ['P5a', 'P5b'], p7: GROUPS[6].ids, x: ['X1', 'X2', 'X3'], checks: ['X1', 'X2', 'X3'], curve: ['P2c', 'P4c'], b1: [], b2: [] }
const allIds = GROUPS.flatMap((g) => g.ids)
const wanted = new Set()
const wantedBaselines = new Set()
for (const name of (values.only ?? allIds.join(',')).split(',').map((s) => s.trim()).filter(Boolean)) {
  const key = name.toLowerCase()
  const exact = allIds.find((id) => id.toLowerCase() === key)
  if (exact) wanted.add(exact)
  else if (key in ALIASES) ALIASES[key].forEach((id) => wanted.add(id))
  else throw new Error(`--only: unknown scenario ${name}; known: ${allIds.join(', ')}, ${Object.keys(ALIASES).join(', ')}`)
  if (key === 'b1') ['b1_256', 'b1_16'].forEach((b) => wantedBaselines.add(b))
  if (key === 'b2') wantedBaselines.add('b2')
}
const groups = GROUPS.filter((g) => g.ids.some((id) => wanted.has(id)))
for (const g of groups) g.needs.forEach((b) => wantedBaselines.add(b))

const began = performance.now()
const log = (message) => console.error(`[bench ${((performance.now() - began) / 1000).toFixed(1)} s] ${message}`)
let failed = false

const base = {}
const rows = []
for (const key of Object.keys(BASELINES).filter((k) => wantedBaselines.has(k))) {
  const { id, measure } = BASELINES[key]
  log(`baseline ${id}`)
  try {
    base[key] = await measure()
    const b = base[key]
    rows.push({
      id,
      scenario: key === 'b2' ? 'raw DEALER→ROUTER echo, one at a time, 200 warm-up + 3000' : `raw one-hop PUSH→PULL, msgpackr batches of ${b.size}, ${fmtInt(b.objects)} objects`,
      measured: key === 'b2' ? `p50 ${b.p50.toFixed(0)} µs, p99 ${b.p99.toFixed(0)} µs` : `${fmtInt(b.rate)} objects/s (median of ${b.rates.length})`,
      baseline: '—',
      ratio: null,
      goal: 'baseline',
      met: 'n/a',
      raw: b,
    })
  } catch (error) {
    failed = true
    console.error(`baseline ${id} failed:`, error)
    rows.push({ id, scenario: 'baseline', measured: `FAILED: ${firstLine(error)}`, baseline: '—', ratio: null, goal: 'baseline', met: 'no', error: String(error?.stack ?? error) })
  }
}

for (const group of groups) {
  log(`scenario ${group.ids.filter((id) => wanted.has(id)).join(', ')}`)
  try {
    const missing = group.needs.filter((b) => base[b] === undefined)
    if (missing.length > 0) throw new Error(`baseline ${missing.map((b) => BASELINES[b].id).join(', ')} failed`)
    const result = await group.fn({ quick, runs }, base, wanted)
    for (const row of [result].flat()) {
      if (!wanted.has(row.id)) continue
      if (row.failed) {
        // A group may report one failed setting and carry on with the others.
        failed = true
        console.error(`${row.id} failed:`, row.failed)
        rows.push({ ...row, failed: undefined, measured: `FAILED: ${firstLine(row.failed)}`, baseline: '—', ratio: null, met: 'no', error: String(row.failed?.stack ?? row.failed) })
      } else rows.push(row)
    }
  } catch (error) {
    // Fail loudly, but keep the other scenarios' rows.
    failed = true
    console.error(`${group.ids.join(', ')} failed:`, error)
    for (const id of group.ids.filter((i) => wanted.has(i))) {
      const [scenario, goal] = GOALS[id] ?? ['scaling', 'report']
      rows.push({ id, scenario, measured: `FAILED: ${firstLine(error)}`, baseline: '—', ratio: null, goal, met: 'no', error: String(error?.stack ?? error) })
    }
  }
}

function firstLine(error) {
  return String(error?.message ?? error).split('\n')[0].replaceAll('|', '/')
}

const durationMs = performance.now() - began
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`
console.log(`machine: ${machine}`)
console.log(`mode: ${quick ? 'quick' : 'full'}, P1 runs ${runs}, took ${(durationMs / 1000).toFixed(1)} s`)
console.log('| id | scenario | measured | baseline (same run) | ratio | goal | met |')
console.log('|---|---|---|---|---|---|---|')
for (const r of rows) {
  const ratio = r.ratio === null || r.ratio === undefined ? '—' : r.ratio.toFixed(3)
  console.log(`| ${r.id} | ${r.scenario} | ${r.measured} | ${r.baseline} | ${ratio} | ${r.goal} | ${r.met} |`)
}
mkdirSync(join(root, 'bench', 'results'), { recursive: true })
writeFileSync(
  join(root, 'bench', 'results', 'latest.json'),
  JSON.stringify({ machine, date: new Date().toISOString(), mode: quick ? 'quick' : 'full', runs, durationMs, baselines: base, results: rows }, null, 2),
)
console.log('raw results: bench/results/latest.json')
if (failed) {
  console.error('bench: some scenarios FAILED (see above and the FAILED rows)')
  process.exitCode = 1
}
