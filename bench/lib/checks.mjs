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
// the bare loops get the same warm-up, and serve every run of a scenario as
// the one gateway does (check-loop.mjs), starting together on a signal.
// Product and loop runs alternate, in turn first (ABBA), and each X2 run
// connects to a listener of its own (check-targets.mjs: no run meets the
// TIME_WAIT entries of the one before). Beside the walls, the CPU time per
// check is reported for both sides (product: client + gateway + workers +
// their plugin hosts, less the client's own start-up; baseline: the loop
// processes; the plugins themselves on neither side): on these shared
// 2-core machines it moves far less with the load than the walls do.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { children, fmtInt, killGroup, median, node, run, runClient, start, startAndWaitFor, startServer } from './proc.mjs'
import { parseSummary } from './wall.mjs'

const PROCESSES = 2
const PER_PROCESS = 32
const CONCURRENCY = PROCESSES * PER_PROCESS
const PLUGIN = ['/bin/echo', 'OK - tiny | t=1']
/**
 * Commands of the warm-up run, on either side (the product's gateway, the
 * bare loops), before any measured run: enough that the first measured run is
 * not still in JIT compilation (with 256, the product's first 20 000-check run
 * took 30% more worker CPU per check than the next two).
 */
const WARM_UP = 2048
const loop = 'bench/lib/procs/check-loop.mjs'

const dir = mkdtempSync(join(tmpdir(), 'cgw-bench-checks-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

/** CPU time (user + system) of `pid` so far, in µs, from /proc (clock ticks of 10 ms); NaN once it is gone. */
function cpuUs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10_000
  } catch {
    return Number.NaN
  }
}

/** The command name of `pid` (/proc/PID/comm), or '' once it is gone. */
function comm(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
  } catch {
    return ''
  }
}

/** The checks file: one `port<i>` check per tcp listener, so that each X2 run has a port of its own. */
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
      ...ports.tcp.flatMap((port, i) => [`[check.port${i}]`, `tcp = ${port}`]),
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

/**
 * Starts PROCESSES bare loops of `kind`, warmed up, for every measured run of
 * one scenario. `go(count, port)` runs `count` in all over them, together:
 * the wall from "go" to the last one's result (ms), and their CPU time (µs).
 */
async function startLoops(kind, args) {
  const loops = await Promise.all(
    Array.from({ length: PROCESSES }, () => startAndWaitFor(node, [loop, kind, String(PER_PROCESS), ...args], /ready/, { stdio: ['pipe', 'pipe', 'inherit'] })),
  )
  const lines = loops.map(({ child }) => {
    const queue = []
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      for (let end = out.indexOf('\n'); end !== -1; end = out.indexOf('\n')) {
        const line = out.slice(0, end)
        out = out.slice(end + 1)
        if (line.startsWith('{')) queue.shift()?.resolve(JSON.parse(line))
      }
    })
    child.once('close', () => queue.splice(0).forEach(({ reject }) => reject(new Error(`${kind} loop ended without a result`))))
    return () => new Promise((resolve, reject) => queue.push({ resolve, reject }))
  })
  return {
    async go(count, port) {
      const share = Math.ceil(count / PROCESSES)
      const results = lines.map((next) => next())
      const started = performance.now()
      for (const { child } of loops) child.stdin.write(`go ${share}${port === undefined ? '' : ` ${port}`}\n`)
      const done = await Promise.all(results)
      const ms = performance.now() - started
      const ok = done.reduce((n, r) => n + r.ok, 0)
      if (ok !== share * PROCESSES) throw new Error(`${kind} loop: ${ok} of ${share * PROCESSES} ok`)
      return { ms, cpuUs: done.reduce((n, r) => n + r.cpuUs, 0) }
    },
    stop() {
      for (const { child } of loops) killGroup(child.pid)
    },
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

/**
 * One product run: the client's in-run elapsed ms for `count` commands of
 * `check`, and the CPU time (µs) of the client, the gateway, its workers and
 * their plugin hosts over the run. The client runs under `sh`, which reports its child's CPU
 * (cutime, cstime) once it has waited for it, on the last line of stderr.
 */
async function product(server, check, count, batch) {
  // Each worker's plugin host (its one child, a node process) is the product's too; the plugins are not counted on either side.
  const processes = () => {
    const workers = children(server.pid)
    return [server.pid, ...workers, ...workers.flatMap((pid) => children(pid)).filter((pid) => comm(pid) === 'node')]
  }
  const before = new Map(processes().map((pid) => [pid, cpuUs(pid)]))
  const client = await run('sh', ['-c', '"$0" "$@"; code=$?; cat /proc/$$/stat >&2; exit $code', runClient, commandsFile(check, count), String(batch), 'tcp://127.0.0.1:*', server.endpoint, '--json'])
  // A process started during the run (a host on its first check) counts from 0.
  const after = new Map(processes().map((pid) => [pid, cpuUs(pid)]))
  const summary = parseSummary(client)
  if (summary.counts.ok !== count || (summary.states?.ok ?? count) !== count) {
    throw new Error(`${check}: expected ${count} ok, got ${JSON.stringify(summary.counts)} states ${JSON.stringify(summary.states)} (exit ${client.code})`)
  }
  const stat = client.err.trim().split('\n').at(-1)
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const clientUs = (Number(fields[13]) + Number(fields[14])) * 10_000
  let serverUs = 0
  for (const [pid, us] of after) serverUs += us - (before.get(pid) ?? 0)
  return { ms: summary.elapsedMs, serverUs, clientUs }
}

/**
 * The client's CPU time outside its run (loading its modules, binding, exiting),
 * to take off the measured runs' (whose wall is in-run): the median of three
 * one-command runs.
 */
async function clientStartUs(server, check) {
  const runs = []
  for (let i = 0; i < 3; i++) runs.push((await product(server, check, 1, 1)).clientUs)
  return median(runs)
}

async function withTargets(listeners, fn) {
  const { child, match } = await startAndWaitFor(node, ['bench/lib/procs/check-targets.mjs', String(listeners)], /listening (\{.*\})/)
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

const perCheck = (us, count) => `${(us / count).toFixed(0)} µs`

/** X1–X3: one row each, medians over `repeats` alternating product and baseline runs. */
export async function checks({ quick }, _base, ids) {
  const repeats = quick ? 1 : 3
  const sizes = { X1: quick ? 500 : 2000, X2: quick ? 5000 : 20_000, X3: quick ? 2500 : 10_000 }
  // A tcp listener for the warm-up and one for each measured run, product and baseline alike.
  return withTargets(1 + 2 * repeats, async (ports) =>
    withGateway(ports, async (server) => {
      const rows = []
      const scenario = {
        X1: { check: () => 'tiny', kind: 'exec', args: PLUGIN, port: () => undefined, batch: 16, label: 'runs of a tiny exec plugin (/bin/echo)' },
        X2: { check: (run) => `port${run}`, kind: 'tcp', args: [String(ports.tcp[0])], port: (run) => ports.tcp[run], batch: 256, label: 'tcp checks against a local listener' },
        X3: { check: () => 'web', kind: 'fetch', args: [`http://127.0.0.1:${ports.http}/ok`], port: () => undefined, batch: 256, label: 'http checks against a local HTTP server' },
      }
      for (const id of ['X1', 'X2', 'X3'].filter((i) => ids.has(i))) {
        const s = scenario[id]
        const count = sizes[id]
        console.error(`[bench]   ${id}: ${fmtInt(count)} ${s.label}`)
        let loops
        try {
          // The warm-ups: the same commands on either side, against the same tcp listener.
          await product(server, s.check(0), WARM_UP, s.batch)
          loops = await startLoops(s.kind, s.args)
          await loops.go(WARM_UP)
          const startUs = await clientStartUs(server, s.check(0))
          const mine = []
          const bare = []
          const xa = []
          let run = 1
          for (let i = 0; i < repeats; i++) {
            const measureProduct = async () => {
              const r = await product(server, s.check(run), count, s.batch)
              mine.push({ ...r, cpuUs: r.serverUs + Math.max(0, r.clientUs - startUs) })
            }
            const measureBare = async () => bare.push(await loops.go(count, s.port(run)))
            // ABBA: each side runs first in turn, so neither always meets the other's leftovers.
            for (const measure of i % 2 === 0 ? [measureProduct, measureBare] : [measureBare, measureProduct]) {
              await measure()
              run++
            }
            if (id === 'X1') xa.push(await xargs(count))
          }
          const [m, b] = [median(mine.map((r) => r.ms)), median(bare.map((r) => r.ms))]
          const [mCpu, bCpu] = [median(mine.map((r) => r.cpuUs)), median(bare.map((r) => r.cpuUs))]
          const cpu = { product: perCheck(mCpu, count), bare: perCheck(bCpu, count), ratio: mCpu / bCpu }
          const clientUs = median(mine.map((r) => r.clientUs - startUs))
          const raw = { product: mine, bare, count, clientStartUs: startUs, cpuPerCheckUs: { product: mCpu / count, bare: bCpu / count, client: clientUs / count } }
          const scenarioText = `${fmtInt(count)} ${s.label}, concurrency ${CONCURRENCY} (${PROCESSES} workers × ${PER_PROCESS})`
          if (id === 'X1') {
            const x = median(xa)
            rows.push({
              id,
              scenario: scenarioText,
              measured: `wall ${(m / 1000).toFixed(3)} s (${(m / x).toFixed(2)} × xargs -P ${CONCURRENCY}: ${(x / 1000).toFixed(3)} s); CPU ${cpu.product}/run`,
              baseline: `bare spawn loop, ${PROCESSES} processes × ${PER_PROCESS}: ${(b / 1000).toFixed(3)} s; CPU ${cpu.bare}/run`,
              ratio: m / b,
              goal: 'ratio ≤ 1.1',
              met: m / b <= 1.1 ? 'yes' : 'no',
              raw: { ...raw, xargs: xa },
            })
          } else {
            const [rate, baseRate] = [count / (m / 1000), count / (b / 1000)]
            const what = id === 'X2' ? 'net.connect' : 'fetch'
            rows.push({
              id,
              scenario: scenarioText,
              measured: `${fmtInt(rate)} commands/s; CPU ${cpu.product}/check`,
              baseline: `bare ${what} loop, ${PROCESSES} processes × ${PER_PROCESS}: ${fmtInt(baseRate)}/s; CPU ${cpu.bare}/check`,
              ratio: rate / baseRate,
              goal: 'ratio ≥ 0.5',
              met: rate / baseRate >= 0.5 ? 'yes' : 'no',
              raw,
            })
          }
        } catch (error) {
          rows.push({ id, scenario: s.label, goal: id === 'X1' ? 'ratio ≤ 1.1' : 'ratio ≥ 0.5', met: 'no', failed: error })
        } finally {
          loops?.stop()
        }
      }
      return rows
    }),
  )
}
