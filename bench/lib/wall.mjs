// Wall-time scenarios: how long a user waits for `run-client` when every
// command takes 1 s, on the first run after a fresh gateway start. The floor
// is the 1 s wait plus a bare node start-up, measured next to each run.
//   P1  the original seed: 512 × 1 s, batch 16, `run-server … 32`
//   P6  100 000 concurrent 1 s commands: batches of 1000, window 100, 2 workers
import { bareNodeStart } from './baselines.mjs'
import { commands } from './data.mjs'
import { fmtS, median, run, runClient, sleep, startServer } from './proc.mjs'

/** One fresh gateway, one client run against it; returns wall, in-run and the bare start next to it. */
async function firstRun(serverArgs, clientArgs, expected) {
  const bare = await bareNodeStart()
  const server = await startServer(serverArgs)
  try {
    // Workers fork in the background after `listening`; a user starts the client a moment later.
    await sleep(500)
    const client = await run(runClient, [...clientArgs, server.endpoint, '--json'])
    const summary = parseSummary(client)
    if (summary.counts.ok !== expected) {
      throw new Error(`expected ${expected} ok, got ${JSON.stringify(summary.counts)} (exit ${client.code})`)
    }
    return { wall: client.ms, inRun: summary.elapsedMs, bare, counts: summary.counts }
  } finally {
    await server.stop()
  }
}

export function parseSummary(client) {
  try {
    return JSON.parse(client.out.trim().split('\n').at(-1))
  } catch {
    throw new Error(`run-client exited ${client.code ?? client.signal} without a JSON summary:\n${client.out}\n${client.err}`)
  }
}

/** Median wall, in-run and floor over `runs` fresh starts, as a table row. */
async function wallRow({ id, scenario, runs, serverArgs, clientArgs, expected, goalMs }) {
  const results = []
  for (let i = 0; i < runs; i++) results.push(await firstRun(serverArgs, clientArgs, expected))
  const walls = results.map((r) => r.wall)
  const wall = median(walls)
  const bare = median(results.map((r) => r.bare))
  const floor = 1000 + bare
  return {
    id,
    scenario,
    measured: `${fmtS(wall)} wall (min ${fmtS(Math.min(...walls))}, max ${fmtS(Math.max(...walls))}, ${runs} runs); in-run ${fmtS(median(results.map((r) => r.inRun)))}`,
    baseline: `${fmtS(floor)} = 1 s wait + bare node start ${bare.toFixed(0)} ms`,
    ratio: wall / floor,
    goal: `wall ≤ ${fmtS(goalMs)}`,
    met: wall <= goalMs ? 'yes' : 'no',
    raw: { runs: results, wallMs: wall, floorMs: floor },
  }
}

export async function p1({ runs }) {
  return wallRow({
    id: 'P1',
    scenario: 'seed: 512 × 1 s, batch 16, `run-server … 32`, first run after start',
    runs,
    serverArgs: ['tests/data/server_data.txt', 'tcp://127.0.0.1:*', 'x', '32'],
    clientArgs: ['tests/data/client_data.txt', '16', 'tcp://127.0.0.1:*'],
    expected: 512,
    goalMs: 1050,
  })
}

export async function p6({ quick }) {
  const count = quick ? 20_000 : 100_000
  const data = await commands(count, 1)
  return wallRow({
    id: 'P6',
    scenario: `${count / 1000}k concurrent 1 s commands: ${count / 1000} × 1000, window 100, 2 workers × capacity 100`,
    runs: quick ? 1 : 3,
    serverArgs: [data.map, 'tcp://127.0.0.1:*', 'x', '--max-workers', '2', '--min-workers', '2', '--capacity', '100', '--max-worker-capacity', '100', '--concurrency', '100000'],
    clientArgs: [data.file, '--batch-size', '1000', '--window', '100', '--bind', 'tcp://127.0.0.1:*', '--server'],
    expected: count,
    goalMs: 1300,
  })
}
