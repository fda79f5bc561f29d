// Shared by the micro-benchmarks in bench/micro: times a hand-written piece
// against the library doing the same job on the same input, and prints one
// markdown row per case with the ratio.
//
// Each round times one side for a fixed number of operations, calibrated once
// so a round lasts about --round-ms. Rounds alternate which side goes first, so
// drift (other load on a shared 2-core machine, heap growth) hits both alike.
// The figure is the median µs per operation over --rounds rounds, after
// --warmup rounds that are thrown away (V8 optimises a function only after many
// calls, and the first rounds would measure its compiler).
import { parseArgs } from 'node:util'

export function options(extra = {}) {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '3' },
      'round-ms': { type: 'string', default: '40' },
      ...extra,
    },
  })
  return { ...values, rounds: Number(values.rounds), warmup: Number(values.warmup), roundMs: Number(values['round-ms']) }
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** Whatever a measured function returns lands here, so V8 cannot drop the call as dead code. */
let sink = 0
function consume(value) {
  sink = (sink + (typeof value === 'number' ? value : value === undefined || value === null ? 1 : (value.length ?? 1))) | 0
}

function timeOps(fn, ops) {
  const started = performance.now()
  for (let i = 0; i < ops; i++) consume(fn())
  return ((performance.now() - started) * 1000) / ops
}

/** How many calls of `fn` take about `ms` milliseconds. */
function calibrate(fn, ms) {
  let ops = 1
  for (;;) {
    const started = performance.now()
    for (let i = 0; i < ops; i++) consume(fn())
    const took = performance.now() - started
    if (took >= ms / 4 || ops >= 1 << 26) return Math.max(1, Math.round((ops * ms) / Math.max(took, 0.001)))
    ops *= 4
  }
}

/**
 * Measures each side of one case. `sides` maps a label (say `hand`, `msgpackr`)
 * to a function doing one operation. Returns `{ label: { median, min } }` in µs.
 */
export function compare(sides, { rounds, warmup, roundMs }) {
  const labels = Object.keys(sides)
  const ops = Object.fromEntries(labels.map((label) => [label, calibrate(sides[label], roundMs)]))
  const figures = Object.fromEntries(labels.map((label) => [label, []]))
  for (let r = 0; r < warmup + rounds; r++) {
    const order = r % 2 === 0 ? labels : [...labels].reverse()
    for (const label of order) {
      const us = timeOps(sides[label], ops[label])
      if (r >= warmup) figures[label].push(us)
    }
  }
  return Object.fromEntries(labels.map((label) => [label, { median: median(figures[label]), min: Math.min(...figures[label]) }]))
}

function fmt(us) {
  return us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us >= 1 ? us.toFixed(2) : us.toFixed(3)
}

/**
 * Runs every case and prints a markdown table: median (min) µs per operation
 * of each side, and `base / hand` for each other side (above 1: hand-written wins).
 * `cases` is `[{ name, sides: { hand, ...others } }]`; the first side is the hand-written one.
 */
export function run(title, cases, settings) {
  console.log(`${title}`)
  console.log(`node ${process.version}, ${settings.rounds} rounds of ~${settings.roundMs} ms after ${settings.warmup} warm-up rounds; µs per operation, median (min)\n`)
  const labels = Object.keys(cases[0].sides)
  const [hand, ...others] = labels
  console.log(`| case | ${labels.join(' | ')} | ${others.map((o) => `${o} / ${hand}`).join(' | ')} |`)
  console.log(`|---|${labels.map(() => '---:').join('|')}|${others.map(() => '---:').join('|')}|`)
  const results = []
  for (const c of cases) {
    const r = compare(c.sides, settings)
    results.push({ name: c.name, figures: r })
    const cells = labels.map((l) => `${fmt(r[l].median)} (${fmt(r[l].min)})`)
    const ratios = others.map((o) => `${(r[o].median / r[hand].median).toFixed(2)}×`)
    console.log(`| ${c.name} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`)
  }
  if (sink === 0x7fffffff) console.log('') // reads the sink once
  return results
}

/** Throws unless both sides did the same job: `a` and `b` are deep-equal (JSON plus buffers as hex). */
export function assertSame(what, a, b) {
  const show = (v) => JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x))
  if (show(a) !== show(b)) throw new Error(`${what}: the two sides disagree:\n  ${show(a).slice(0, 300)}\n  ${show(b).slice(0, 300)}`)
}
