// CURVE's cost (issue 12), each against the same scenario in plaintext
// measured in the same run, alternating so that drift hits both alike:
//   P2c  P2 with CURVE on: run-server --curve-secret --clients-allow
//        --workers-allow, run-client --curve-secret --server-key; goal
//        ≥ 0.7 × P2 plaintext commands/s
//   P4c  P4 with CURVE on (the raw client of procs/one-at-a-time.mjs as a
//        CURVE client and server, with replyKey); goal p50 ≤ 1.3 × P4 plaintext
// Certificates are made by gateway-keygen, as an operator makes them.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { commands } from './data.mjs'
import { oneAtATime } from './latency.mjs'
import { fmtInt, median, node, root, run, runClient, runServer } from './proc.mjs'
import { clients } from './throughput.mjs'

const FLAGS = [
  ['run-server', runServer, ['--curve-secret', '--clients-allow', '--workers-allow']],
  ['run-client', runClient, ['--curve-secret', '--server-key']],
]

let made
/** The gateway's, a client's and a worker's certificates, and the allow-lists, made once per bench run. */
async function certificates() {
  if (made !== undefined) return made
  // Without the flags the CLIs would exit 2 (usage); say which are missing instead.
  for (const [name, bin, flags] of FLAGS) {
    const help = await run(node, [bin, '--help'])
    const missing = flags.filter((flag) => !help.out.includes(flag))
    if (missing.length > 0) throw new Error(`${name} lacks ${missing.join(', ')}: CURVE (issue 12) is not built into it`)
  }
  const dir = mkdtempSync(join(tmpdir(), 'cgw-bench-curve-'))
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  const keys = join(dir, 'keys')
  for (const name of ['gateway', 'client', 'worker']) {
    const result = await run(node, [join(root, 'bin', 'gateway-keygen.js'), keys, name])
    if (result.code !== 0) throw new Error(`gateway-keygen ${keys} ${name} failed (${result.code}): ${result.err}`)
  }
  // An allow-list is a directory of public certificates: a copy of each member's NAME.key.
  for (const [list, name] of [['clients', 'client'], ['workers', 'worker']]) {
    mkdirSync(join(dir, list))
    copyFileSync(join(keys, `${name}.key`), join(dir, list, `${name}.key`))
  }
  made = {
    server: ['--curve-secret', join(keys, 'gateway.key_secret'), '--clients-allow', join(dir, 'clients'), '--workers-allow', join(dir, 'workers')],
    client: ['--curve-secret', join(keys, 'client.key_secret'), '--server-key', join(keys, 'gateway.key')],
    rawClient: [join(keys, 'gateway.key'), join(keys, 'client.key_secret')],
  }
  return made
}

/** P2c: rounds of P2 plaintext then CURVE, same data, same gateway settings; median rate of each. */
export async function p2c({ quick }) {
  const keys = await certificates()
  const count = quick ? 200_000 : 1_000_000
  const size = 256
  const rounds = quick ? 1 : 3
  const data = await commands(count, 0)
  const workers = [String(Math.max(1, cpus().length))]
  const rate = async (serverArgs, clientArgs) => {
    const { summaries } = await clients(data.map, serverArgs, [data], size, clientArgs)
    return summaries[0].commands / (summaries[0].elapsedMs / 1000)
  }
  const plain = []
  const curve = []
  for (let i = 0; i < rounds; i++) {
    plain.push(await rate(workers, []))
    curve.push(await rate([...workers, ...keys.server], keys.client))
  }
  const ratio = median(curve) / median(plain)
  return {
    id: 'P2c',
    scenario: `P2 with CURVE on every link: ${fmtInt(count)} zero-wait commands, batch ${size}, ${cpus().length} workers (${rounds} round${rounds > 1 ? 's' : ''}, alternating)`,
    measured: `${fmtInt(median(curve))} commands/s end to end over CURVE`,
    baseline: `P2 plaintext, same run: ${fmtInt(median(plain))} commands/s`,
    ratio,
    goal: 'ratio ≥ 0.7',
    met: ratio >= 0.7 ? 'yes' : 'no',
    raw: { plain, curve, count, size },
  }
}

/** P4c: P4 plaintext then CURVE, same warm-up and count; p50 against p50. */
export async function p4c(options) {
  const keys = await certificates()
  const plain = await oneAtATime(options)
  const curve = await oneAtATime(options, keys.server, keys.rawClient)
  const ratio = curve.p50 / plain.p50
  return {
    id: 'P4c',
    scenario: `P4 with CURVE on every link (raw CGP/1 client with replyKey), ${curve.warm} warm-up + ${curve.count} timed`,
    measured: `p50 ${curve.p50.toFixed(0)} µs, p99 ${curve.p99.toFixed(0)} µs (p90 ${curve.p90.toFixed(0)}, max ${curve.max.toFixed(0)})`,
    baseline: `P4 plaintext, same run: p50 ${plain.p50.toFixed(0)} µs, p99 ${plain.p99.toFixed(0)} µs`,
    ratio,
    goal: `p50 ≤ 1.3 × plaintext p50 (${(1.3 * plain.p50).toFixed(0)} µs)`,
    met: ratio <= 1.3 ? 'yes' : 'no',
    raw: { plain, curve },
  }
}
