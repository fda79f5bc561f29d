// Baselines, measured in the same run as the scenarios they are compared with,
// always between two separate node processes over tcp loopback:
//   B1  raw one-hop throughput: PUSH→PULL of msgpackr-encoded batches of
//       small [address, command] pairs, decoded at the receiver (objects/s);
//   B2  raw DEALER→ROUTER echo latency, one message at a time (µs);
//   and a bare `node -e 0` start, the floor under every "client wall" figure.
import { killGroup, median, node, percentile, run, runJson, startAndWaitFor } from './proc.mjs'

const procs = 'bench/lib/procs'

/** Wall time of a bare `node -e 0` (ms). */
export async function bareNodeStart() {
  return (await run(node, ['-e', '0'])).ms
}

/** One B1 measurement: objects/s for `objects` pairs sent in batches of `size`. */
async function oneHopOnce(size, objects) {
  const batches = Math.max(2, Math.floor(objects / size))
  const { child, match } = await startAndWaitFor(node, [`${procs}/one-hop-recv.mjs`, String(batches)], /listening (\S+)/)
  try {
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    const done = new Promise((resolve) => child.once('close', resolve))
    const sender = await run(node, [`${procs}/one-hop-send.mjs`, match[1], String(size), String(batches)])
    if (sender.code !== 0) throw new Error(`one-hop sender failed: ${sender.err}`)
    await done
    const { ms, objects: counted } = JSON.parse(out.trim().split('\n').at(-1))
    return counted / (ms / 1000)
  } finally {
    killGroup(child.pid)
  }
}

/** B1: median of `repeats` one-hop runs (objects/s), and every run's figure. */
export async function oneHop(size, objects, repeats = 3) {
  const rates = []
  for (let i = 0; i < repeats; i++) rates.push(await oneHopOnce(size, objects))
  return { rate: median(rates), rates, size, objects }
}

/** B2: echo round trips through a ROUTER in another process; p50/p99 in µs. */
export async function echoLatency(warm, count) {
  const { child, match } = await startAndWaitFor(node, [`${procs}/echo-router.mjs`], /listening (\S+)/)
  try {
    const { json } = await runJson([`${procs}/echo-dealer.mjs`, match[1], String(warm), String(count)])
    return latencyStats(json.samples)
  } finally {
    killGroup(child.pid) // the echo server runs until killed
  }
}

/** p50, p90, p99, max and mean of round-trip samples in µs. */
export function latencyStats(samples) {
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p90: percentile(samples, 90),
    p99: percentile(samples, 99),
    max: Math.max(...samples),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
  }
}
