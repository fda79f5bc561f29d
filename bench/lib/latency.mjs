// P4: latency of one command at a time on an idle system, against B2 (raw
// DEALER→ROUTER echo between two processes). The client is a bench-only
// CGP/1 client on raw zeromq + msgpackr (procs/one-at-a-time.mjs), so the
// figure is the gateway and worker path alone, not run-client's batching.
import { latencyStats } from './baselines.mjs'
import { commands } from './data.mjs'
import { runJson, sleep, startServer } from './proc.mjs'

/**
 * Round trips of one command at a time through a fresh gateway started with
 * `serverArgs` added; `clientArgs` go to procs/one-at-a-time.mjs after its
 * five positional arguments (P4c passes its certificates there).
 */
export async function oneAtATime({ quick }, serverArgs = [], clientArgs = []) {
  // A gateway in service is warm. With 200 warm-up round trips the p99 was ~3.7 ms from
  // JIT compilation in the three processes (slow samples cluster early); after 3000 it is
  // the steady state the goal is about.
  const warm = quick ? 1000 : 3000
  const count = quick ? 500 : 2000
  const data = await commands(512, 0)
  // A known zero-wait command of the map: "address:command".
  const [address, command] = [data.first.slice(0, data.first.lastIndexOf(':')), data.first.slice(data.first.lastIndexOf(':') + 1)]
  const server = await startServer([data.map, 'tcp://127.0.0.1:*', 'x', ...serverArgs])
  try {
    await sleep(500) // let the first worker come up, as for every first client run
    const { json } = await runJson(['bench/lib/procs/one-at-a-time.mjs', server.endpoint, address, command, String(warm), String(count), ...clientArgs])
    return { ...latencyStats(json.samples), warm, count }
  } finally {
    await server.stop()
  }
}

export async function p4(options, base) {
  const stats = await oneAtATime(options)
  const { warm, count } = stats
  const echo = base.b2
  const p50Goal = 2 * echo.p50
  const missed = []
  if (stats.p50 > p50Goal) missed.push('p50')
  if (stats.p99 > 1000) missed.push('p99')
  return {
    id: 'P4',
    scenario: `one command at a time, idle gateway (default workers), ${warm} warm-up + ${count} timed, raw CGP/1 client`,
    measured: `p50 ${stats.p50.toFixed(0)} µs, p99 ${stats.p99.toFixed(0)} µs (p90 ${stats.p90.toFixed(0)}, max ${stats.max.toFixed(0)})`,
    baseline: `B2 echo: p50 ${echo.p50.toFixed(0)} µs, p99 ${echo.p99.toFixed(0)} µs`,
    ratio: stats.p50 / echo.p50,
    goal: `p50 ≤ 2 × echo p50 (${p50Goal.toFixed(0)} µs) and p99 ≤ 1000 µs`,
    met: missed.length === 0 ? 'yes' : 'no',
    raw: { ...stats, missed, echo },
  }
}
