// Real checks (issue 11), end to end, each against the bare loop it stands on,
// measured in the same run:
//   X1  2000 runs of a tiny exec plugin (/bin/echo: no shell, prints a first
//       line with perfdata), concurrency 64 = 2 workers × 32. Baseline: a bare
//       Node spawn loop spread over the same 2 processes × 32 (the limit Node
//       itself sets); also reported against `xargs -P 64`.
//   X2  20 000 tcp checks against a local listener, 2 workers × 32, against a
//       bare net.connect loop over 2 processes × 32.
//   X3  10 000 http checks against a local HTTP server, 2 workers × 32, against
//       a bare fetch loop over 2 processes × 32.
// The product's figure is the client's own elapsed time (its --json summary),
// after a warm-up run on the same gateway, so worker start-up is not counted;
// the loops warm up too, and start together on a signal.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fmtInt, killGroup, median, node, run, runClient, start, startAndWaitFor, startServer } from './proc.mjs'
import { parseSummary } from './wall.mjs'

const PROCESSES = 2
const PER_PROCESS = 32
const CONCURRENCY = PROCESSES * PER_PROCESS
const PLUGIN = ['/bin/echo', 'OK - tiny | t=1']
const loop = 'bench/lib/procs/check-loop.mjs'

const dir = mkdtempSync(join(tmpdir(), 'cgw-bench-checks-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

function checksFile(ports) {
  const file = join(dir, 'checks.toml')
  writeFileSync(
    file,
    [
      'targets = ["127.0.0.1"]',
      '[defaults]',
      'timeout = "10s"',
      `per_target = ${CONCURRENCY}`,
      '[check.tiny]',
      `exec = ${JSON.stringify(PLUGIN)}`,
      '[check.port]',
      `tcp = ${ports.tcp}`,
      '[check.web]',
      `http = "http://{address}:${ports.http}/ok"`,
      '',
    ].join('\n'),
  )
  return file
}

function commandsFile(check, count) {
  const file = join(dir, `${check}-${count}.txt`)
  writeFileSync(file, `127.0.0.1:${check}\n`.repeat(count))
  return file
}

/** Runs PROCESSES bare loops of `kind` together; the wall from "go" to the last one done (ms). */
async function bareLoops(kind, count, args) {
  const share = Math.ceil(count / PROCESSES)
  const loops = await Promise.all(
    Array.from({ length: PROCESSES }, () => startAndWaitFor(node, [loop, kind, String(share), String(PER_PROCESS), ...args], /ready/, { stdio: ['pipe', 'pipe', 'inherit'] })),
  )
  try {
    const results = loops.map(
      ({ child }) =>
        new Promise((resolve, reject) => {
          let out = ''
          child.stdout.on('data', (d) => (out += d))
          child.once('close', () => {
            try {
              resolve(JSON.parse(out.trim().split('\n').at(-1)))
            } catch {
              reject(new Error(`${kind} loop printed no result: ${out}`))
            }
          })
        }),
    )
    const started = performance.now()
    for (const { child } of loops) child.stdin.write('go\n')
    const done = await Promise.all(results)
    const ms = performance.now() - started
    const ok = done.reduce((n, r) => n + r.ok, 0)
    if (ok !== share * PROCESSES) throw new Error(`${kind} loop: ${ok} of ${share * PROCESSES} ok`)
    return ms
  } finally {
    for (const { child } of loops) killGroup(child.pid)
  }
}

/** `xargs -P 64 -n 1` running PLUGIN `count` times (no shell: xargs reads the arguments from our pipe). */
async function xargs(count) {
  const started = performance.now()
  const child = start('xargs', ['-P', String(CONCURRENCY), '-n', '1', ...PLUGIN], { stdio: ['pipe', 'ignore', 'inherit'] })
  const closed = new Promise((resolve) => child.once('close', resolve))
  child.stdin.end(Array.from({ length: count }, (_, i) => i).join('\n') + '\n')
  const code = await closed
  if (code !== 0) throw new Error(`xargs exited ${code}`)
  return performance.now() - started
}

/** One product run: the client's in-run elapsed ms for `count` commands of `check`. */
async function product(server, check, count, batch) {
  const client = await run(runClient, [commandsFile(check, count), String(batch), 'tcp://127.0.0.1:*', server.endpoint, '--json'])
  const summary = parseSummary(client)
  if (summary.counts.ok !== count || (summary.states?.ok ?? count) !== count) {
    throw new Error(`${check}: expected ${count} ok, got ${JSON.stringify(summary.counts)} states ${JSON.stringify(summary.states)} (exit ${client.code})`)
  }
  return summary.elapsedMs
}

async function withTargets(fn) {
  const { child, match } = await startAndWaitFor(node, ['bench/lib/procs/check-targets.mjs'], /listening (\{.*\})/)
  try {
    return await fn(JSON.parse(match[1]))
  } finally {
    killGroup(child.pid)
  }
}

async function withGateway(ports, fn) {
  const server = await startServer([
    '--checks', checksFile(ports),
    '--bind', 'tcp://127.0.0.1:*',
    '--max-workers', String(PROCESSES), '--min-workers', String(PROCESSES),
    '--concurrency', String(PER_PROCESS),
  ])
  try {
    return await fn(server)
  } finally {
    await server.stop()
  }
}

/** X1–X3: one row each, medians over `repeats` alternating product and baseline runs. */
export async function checks({ quick }, _base, ids) {
  const repeats = quick ? 1 : 3
  const sizes = { X1: quick ? 500 : 2000, X2: quick ? 5000 : 20_000, X3: quick ? 2500 : 10_000 }
  return withTargets(async (ports) =>
    withGateway(ports, async (server) => {
      const rows = []
      const scenario = {
        X1: { check: 'tiny', kind: 'exec', args: PLUGIN, batch: 16, label: 'runs of a tiny exec plugin (/bin/echo)' },
        X2: { check: 'port', kind: 'tcp', args: [String(ports.tcp)], batch: 256, label: 'tcp checks against a local listener' },
        X3: { check: 'web', kind: 'fetch', args: [`http://127.0.0.1:${ports.http}/ok`], batch: 256, label: 'http checks against a local HTTP server' },
      }
      for (const id of ['X1', 'X2', 'X3'].filter((i) => ids.has(i))) {
        const s = scenario[id]
        const count = sizes[id]
        console.error(`[bench]   ${id}: ${fmtInt(count)} ${s.label}`)
        try {
          await product(server, s.check, Math.min(count, 256), s.batch) // warm-up: workers up, code compiled
          const mine = []
          const bare = []
          const xa = []
          for (let i = 0; i < repeats; i++) {
            mine.push(await product(server, s.check, count, s.batch))
            bare.push(await bareLoops(s.kind, count, s.args))
            if (id === 'X1') xa.push(await xargs(count))
          }
          const [m, b] = [median(mine), median(bare)]
          if (id === 'X1') {
            const x = median(xa)
            rows.push({
              id,
              scenario: `${fmtInt(count)} ${s.label}, concurrency ${CONCURRENCY} (${PROCESSES} workers × ${PER_PROCESS})`,
              measured: `wall ${(m / 1000).toFixed(3)} s (${(m / x).toFixed(2)} × xargs -P ${CONCURRENCY}: ${(x / 1000).toFixed(3)} s)`,
              baseline: `bare spawn loop, ${PROCESSES} processes × ${PER_PROCESS}: ${(b / 1000).toFixed(3)} s`,
              ratio: m / b,
              goal: 'ratio ≤ 1.1',
              met: m / b <= 1.1 ? 'yes' : 'no',
              raw: { product: mine, bare, xargs: xa, count },
            })
          } else {
            const [rate, baseRate] = [count / (m / 1000), count / (b / 1000)]
            const what = id === 'X2' ? 'net.connect' : 'fetch'
            rows.push({
              id,
              scenario: `${fmtInt(count)} ${s.label}, concurrency ${CONCURRENCY} (${PROCESSES} workers × ${PER_PROCESS})`,
              measured: `${fmtInt(rate)} commands/s`,
              baseline: `bare ${what} loop, ${PROCESSES} processes × ${PER_PROCESS}: ${fmtInt(baseRate)}/s`,
              ratio: rate / baseRate,
              goal: 'ratio ≥ 0.5',
              met: rate / baseRate >= 0.5 ? 'yes' : 'no',
              raw: { product: mine, bare, count },
            })
          }
        } catch (error) {
          rows.push({ id, scenario: s.label, goal: id === 'X1' ? 'ratio ≤ 1.1' : 'ratio ≥ 0.5', met: 'no', failed: error })
        }
      }
      return rows
    }),
  )
}
