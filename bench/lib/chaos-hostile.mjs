// H hostile peers. The attackers are real processes written against CGP/1
// alone (tests/fixtures/flood-intake.mjs, tests/fixtures/rogue-worker.mjs);
// everything else is the real CLIs on loopback.
//
//   H1  a flood of tasks at 75/s, each with its own unreachable replyTo
//       (malformed, then valid; a fresh gateway for each) against 2 forked
//       workers and one remote run-worker, while a normal client keeps running
//   H3  a rogue worker says `ready` with capacity 1 000 000 beside one honest
//       forked worker (and answers, so nothing is lost): its share of 32 batches
//   H4  a rogue says `ready` again and again during a client's run (hoarding in
//       between): batches rejected `attempts-exhausted`
//   H5  a rogue takes every batch and never says `done`, `--queue-bytes 8 MiB`,
//       ~1000 batches of ~340 KB: the gateway's RSS, then a later client's losses
//   H7  one client's 4 × 10 000 one-second commands, then another client's
//       16-command batch: the small client's wait
//
// A gateway that dies is a figure ("gateway died (exit 1)"), never a harness
// failure. Options the gateway under test may not know (--max-worker-capacity,
// --hold-timeout) are passed only when `run-server --help` lists them, so the
// same harness measures the code before and after the fixes.
import { join } from 'node:path'
import { clientSummary, freePort, row, startGateway, workerPids } from './chaos-common.mjs'
import { commands } from './data.mjs'
import { fmtMB, fmtS, median, memory, node, root, run, runClient, runServer, sleep, start, waitFor } from './proc.mjs'

const FIXTURES = join(root, 'tests', 'fixtures')
const RUN_WORKER = join(root, 'bin', 'run-worker.js')
const GATEWAY_STATUS = join(root, 'bin', 'gateway-status.js')
const RATE = 75 // tasks per second in H1, as in the review
const MAX_WORKER_CAPACITY = 64 // what --max-worker-capacity defaults to, once it exists
const HOLD_TIMEOUT_MS = 10_000 // --hold-timeout, once it exists: longer than any honest batch here
const MiB = 1024 * 1024

// --- helpers -------------------------------------------------------------------

let helpText
/** `[flag, value]` if the gateway under test lists `flag` in its --help, else []. */
async function ifSupported(flag, value) {
  helpText ??= (await run(runServer, ['--help'])).out
  return helpText.includes(flag) ? [flag, String(value)] : []
}

/** A fixture process: { child, done (→ run() result + parsed json), stop() (SIGTERM, → done) }. */
function fixture(name, args) {
  let child
  const done = run(node, [join(FIXTURES, name), ...args], { onStart: (c) => (child = c) }).then((r) => {
    let json
    try {
      json = JSON.parse(r.out.trim().split('\n').at(-1))
    } catch {
      // reported as missing counts
    }
    return { ...r, json }
  })
  return {
    child,
    done,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return done
    },
  }
}

/** `gateway-status --json`, or undefined when nothing answers. */
async function status(endpoint) {
  const r = await run(GATEWAY_STATUS, [endpoint, '--json', '--timeout', '1000'])
  if (r.code !== 0) return undefined
  try {
    return JSON.parse(r.out)
  } catch {
    return undefined
  }
}

/** One run-client --json; never throws: { ok, lost, elapsedMs, rejected, … } or { error }. */
async function client(file, endpoint, extra = []) {
  const r = await run(runClient, [file, '16', 'tcp://127.0.0.1:*', endpoint, '--json', '--log-level', 'error', ...extra])
  try {
    const s = clientSummary(r)
    return { ok: s.counts.ok, lost: s.counts.lost, commands: s.commands, batches: s.batches, elapsedMs: s.elapsedMs, rejected: s.lostBatches.rejected, lostBatches: s.lostBatches, resends: s.resends, code: r.code }
  } catch (error) {
    return { error: String(error.message).split('\n')[0], code: r.code, elapsedMs: r.ms, lost: Number.NaN }
  }
}

/** Watches a child's exit: { exited: undefined | { code, signal, at } }. */
function exitWatch(child) {
  const w = { exited: undefined }
  if (child.exitCode !== null || child.signalCode !== null) w.exited = { code: child.exitCode, signal: child.signalCode, at: performance.now() }
  else child.once('exit', (code, signal) => (w.exited = { code, signal, at: performance.now() }))
  return w
}

const exitText = (e) => (e.code !== null ? `exit ${e.code}` : e.signal)
/** The lines of a log tail that are not pino JSON: a crash's stack trace. */
const crashLines = (tail) => tail.filter((l) => l.trim() && !l.startsWith('{')).slice(0, 12)
const pct = (n, d) => `${d ? Math.round((100 * n) / d) : 0} %`
const s = (ms) => (Number.isFinite(ms) ? fmtS(ms) : '?')

/** Starts a gateway and runs `body(gateway, exit)`; always stops it. */
async function withGateway(args, body) {
  const gateway = await startGateway(args)
  const watch = exitWatch(gateway.child)
  try {
    return await body(gateway, watch)
  } finally {
    await gateway.stop(15_000)
  }
}

/** "yes", or "gateway died (exit 1) after …" for the figures. */
function gatewayFate(watch, since) {
  if (!watch.exited) return 'yes'
  return `gateway died (${exitText(watch.exited)})${since ? ` ${((watch.exited.at - since) / 1000).toFixed(1)} s into the flood` : ''}`
}

// --- H1 flood ------------------------------------------------------------------

async function h1Phase(kind, { durationMs, portBase }) {
  const data = await commands(512, 0)
  const workersPort = await freePort()
  const statusEp = `tcp://127.0.0.1:${await freePort()}`
  const clientArgs = ['--result-timeout', '5000', '--max-resends', '2', '--send-retries', '2', '--retry-delay', '1000']
  return withGateway(
    [data.map, 'tcp://127.0.0.1:*', 'x', '2', '--min-workers', '2', '--workers-bind', `tcp://127.0.0.1:${workersPort}`, '--status', statusEp],
    async (gateway, gwWatch) => {
      const remote = start(RUN_WORKER, ['--gateway', `tcp://127.0.0.1:${workersPort}`, '--map', data.map, '--id', `h1-remote-${kind}`, '--log-level', 'warn'])
      const remoteWatch = exitWatch(remote)
      let remoteErr = ''
      remote.stderr.on('data', (d) => (remoteErr = (remoteErr + d).slice(-20_000)))
      let stopPids = () => {}
      try {
        if (!(await gateway.waitReady(3))) throw new Error(`H1 ${kind}: 2 forked + 1 remote worker not ready within 15 s`)
        const s0 = await status(statusEp)
        const baseline = []
        for (let i = 0; i < 3; i++) baseline.push(await client(data.file, gateway.endpoint, clientArgs))

        const initialPids = new Set(workerPids(gateway.pid))
        const seenPids = new Set(initialPids)
        const pidTimer = setInterval(() => {
          for (const pid of workerPids(gateway.pid)) seenPids.add(pid)
        }, 250)
        stopPids = () => clearInterval(pidTimer)

        const floodStart = performance.now()
        const flood = fixture('flood-intake.mjs', [
          '--intake', gateway.endpoint, '--kind', kind, '--count', '0', '--rate', String(RATE),
          '--duration-ms', String(durationMs), '--port-base', String(portBase),
        ])
        let flooding = true
        void flood.done.finally(() => (flooding = false))
        let lastStatus = s0
        const statusLoop = (async () => {
          while (flooding) {
            lastStatus = (await status(statusEp)) ?? lastStatus
            await sleep(1000)
          }
        })()
        const during = []
        while (flooding && during.length < 200) {
          during.push(await client(data.file, gateway.endpoint, clientArgs))
          await sleep(250)
        }
        const floodResult = await flood.done
        await statusLoop
        await sleep(2000)
        const after = await client(data.file, gateway.endpoint, clientArgs)
        const s1 = (await status(statusEp)) ?? lastStatus
        stopPids()
        const forkedAlive = workerPids(gateway.pid).length

        const spawned = s0 && s1 ? s1.counters.workersSpawned - s0.counters.workersSpawned : undefined
        const newPids = seenPids.size - initialPids.size
        // Whether the gateway still lists it (unknowable once the gateway is gone).
        const remoteConnected = gwWatch.exited ? undefined : s1?.workers?.some((w) => w.id === `h1-remote-${kind}`)
        const okMs = (xs) => xs.filter((c) => c.lost === 0).map((c) => c.elapsedMs)
        const lostRuns = during.filter((c) => c.lost !== 0)
        return {
          kind,
          durationMs,
          flood: floodResult.json ?? { error: floodResult.err.slice(-1000) },
          gateway: { died: gwWatch.exited ? { ...gwWatch.exited, afterMs: gwWatch.exited.at - floodStart } : undefined, crash: crashLines(gateway.log.tail) },
          workers: { spawnedBefore: s0?.counters.workersSpawned, spawnedAfter: s1?.counters.workersSpawned, spawned, newPids, alive: forkedAlive, lost: gateway.log.byMsg.get('worker lost') ?? 0 },
          remote: { exited: remoteWatch.exited, connected: remoteConnected, crash: crashLines(remoteErr.split('\n')) },
          baseline,
          during,
          after,
          summary: {
            baselineMedianMs: median(okMs(baseline)),
            duringMedianMs: okMs(during).length ? median(okMs(during)) : undefined,
            duringWorstMs: during.length ? Math.max(...during.map((c) => c.elapsedMs)) : undefined,
            duringRuns: during.length,
            duringLostRuns: lostRuns.length,
            duringLostCommands: lostRuns.reduce((n, c) => n + (Number.isNaN(c.lost) ? 512 : c.lost), 0),
          },
        }
      } finally {
        stopPids()
        remote.kill('SIGKILL')
      }
    },
  )
}

function h1Rows(p) {
  const f = p.flood
  const sum = p.summary
  const fate = p.gateway.died ? `gateway died (${exitText(p.gateway.died)}) ${(p.gateway.died.afterMs / 1000).toFixed(1)} s into the flood` : 'yes'
  const restarts = p.workers.spawned ?? '?'
  const remote = p.remote.exited
    ? `NO: run-worker exited (${exitText(p.remote.exited)})`
    : p.remote.connected === false ? 'process alive, not connected (status)' : p.remote.connected === undefined ? 'process alive (gateway gone, not checkable)' : 'yes'
  const latency = `baseline ${s(sum.baselineMedianMs)}; during: median ${s(sum.duringMedianMs)}, worst ${s(sum.duringWorstMs)}, ${sum.duringLostRuns}/${sum.duringRuns} runs lost commands (${sum.duringLostCommands}); after +2 s: ${p.after.lost === 0 ? s(p.after.elapsedMs) : `${Number.isNaN(p.after.lost) ? p.after.error : `${p.after.lost} lost`}`}`
  const latencyMet = sum.duringLostRuns === 0 && p.after.lost === 0 && sum.duringWorstMs <= 1000
  const label = p.kind
  return [
    row('H1', `${label} flood: tasks at ${RATE}/s for ${p.durationMs / 1000} s, each to its own closed replyTo; 2 forked + 1 remote worker`, f.error ? `flooder failed: ${f.error}` : `${f.sent} sent, ${f.unsent} unsent (ports ${f.firstPort}–${f.lastPort})`),
    row('H1', `${label}: gateway alive after the flood`, fate, 'yes', !p.gateway.died),
    row('H1', `${label}: forked worker restarts (workersSpawned Δ; new pids seen; alive at the end)`, `${restarts}; ${p.workers.newPids}; ${p.workers.alive}/2 (worker lost logged: ${p.workers.lost})`, '0; 0; 2/2', restarts === 0 && p.workers.newPids === 0 && p.workers.alive === 2),
    row('H1', `${label}: remote run-worker alive and connected`, remote, 'yes', remote === 'yes'),
    row('H1', `${label}: normal client (512 × wait 0, batch 16) elapsed`, latency, 'during worst ≤ 1 s, 0 lost; after: 0 lost', latencyMet),
  ]
}

// --- H3 greedy capacity ----------------------------------------------------------

async function h3() {
  const data = await commands(512, 0)
  const workersPort = await freePort()
  const cap = await ifSupported('--max-worker-capacity', MAX_WORKER_CAPACITY)
  return withGateway(
    [data.map, 'tcp://127.0.0.1:*', 'x', '1', '--min-workers', '1', '--workers-bind', `tcp://127.0.0.1:${workersPort}`, ...cap],
    async (gateway, watch) => {
      if (!(await gateway.waitReady(1))) throw new Error('H3: the forked worker not ready within 15 s')
      const rogue = fixture('rogue-worker.mjs', ['--gateway', `tcp://127.0.0.1:${workersPort}`, '--id', 'h3-rogue', '--capacity', '1000000', '--answer', '--duration-ms', '60000'])
      try {
        const joined = await waitFor(() => gateway.readyCount() >= 2, { timeout: 5000 })
        const c = await client(data.file, gateway.endpoint, ['--result-timeout', '5000', '--max-resends', '2', '--send-retries', '2'])
        const r = (await rogue.stop()).json
        return { cap, joined, client: c, rogue: r, gatewayDied: watch.exited }
      } finally {
        rogue.stop()
      }
    },
  )
}

function h3Rows(x) {
  const got = x.rogue?.batches ?? Number.NaN
  const half = 16 + 1 // capped at the honest worker's 64, dispatch alternates: about half
  return [
    row('H3', `rogue says ready with capacity 1 000 000 beside 1 honest forked worker (capacity 64)${x.cap.length ? `; --max-worker-capacity ${MAX_WORKER_CAPACITY}` : '; gateway has no --max-worker-capacity'}; it answers every task`, x.joined ? 'rogue joined' : 'rogue ready not seen in the log'),
    row('H3', 'batches of a 32-batch client the rogue received', `${got} / 32 (${pct(got, 32)})`, `≤ ${half} (its capped share, about half)`, got <= half),
    row('H3', 'client ok / lost; gateway alive', `${x.client.ok ?? x.client.error} / ${x.client.lost}; ${x.gatewayDied ? gatewayFate({ exited: x.gatewayDied }) : 'yes'}`, '512 / 0; yes', x.client.lost === 0 && !x.gatewayDied),
  ]
}

// --- H4 repeated ready -------------------------------------------------------------

async function h4() {
  const data = await commands(512, 0)
  const workersPort = await freePort()
  const extra = [...(await ifSupported('--max-worker-capacity', MAX_WORKER_CAPACITY)), ...(await ifSupported('--hold-timeout', HOLD_TIMEOUT_MS))]
  return withGateway(
    [data.map, 'tcp://127.0.0.1:*', 'x', '1', '--min-workers', '1', '--workers-bind', `tcp://127.0.0.1:${workersPort}`, ...extra],
    async (gateway, watch) => {
      if (!(await gateway.waitReady(1))) throw new Error('H4: the forked worker not ready within 15 s')
      // ready at 0, 300, …, 1500 ms; hoarding in between (no done, heartbeats).
      const rogue = fixture('rogue-worker.mjs', [
        '--gateway', `tcp://127.0.0.1:${workersPort}`, '--id', 'h4-rogue', '--capacity', '1000000', '--hoard',
        '--ready-times', '6', '--ready-every-ms', '300', '--duration-ms', '60000',
      ])
      try {
        const joined = await waitFor(() => gateway.readyCount() >= 2, { timeout: 5000 })
        const t0 = performance.now()
        const c = await client(data.file, gateway.endpoint, ['--result-timeout', '3000', '--max-resends', '3', '--send-retries', '2'])
        const wall = performance.now() - t0
        const r = (await rogue.stop()).json
        const again = [...gateway.log.byMsg].filter(([m]) => /ready again/.test(m)).reduce((n, [, k]) => n + k, 0)
        return { extra, joined, client: c, wall, rogue: r, readyAgainLogged: again, gatewayDied: watch.exited }
      } finally {
        rogue.stop()
      }
    },
  )
}

function h4Rows(x) {
  const exhausted = x.client.rejected?.['attempts-exhausted'] ?? (x.client.error ? Number.NaN : 0)
  return [
    row('H4', `rogue (capacity 1 000 000, hoarding) says ready up to 6 times, every 300 ms, during a 32-batch client run; 1 honest forked worker${x.extra.length ? `; ${x.extra.join(' ')}` : ''}`, `${x.rogue?.readySent ?? '?'} ready sent; ${x.rogue?.tasks ?? '?'} tasks to the rogue (${x.rogue?.batches ?? '?'} distinct); gateway logged "ready again" ${x.readyAgainLogged}×`),
    row('H4', 'batches rejected attempts-exhausted', `${exhausted} / 32 (client ${s(x.client.elapsedMs)}, ok ${x.client.ok ?? x.client.error}, lost ${x.client.lost})`, 0, exhausted === 0),
    row('H4', 'client lost; gateway alive', `${x.client.lost}; ${x.gatewayDied ? gatewayFate({ exited: x.gatewayDied }) : 'yes'}`, '0; yes', x.client.lost === 0 && !x.gatewayDied),
  ]
}

// --- H5 hoarding ---------------------------------------------------------------------

async function h5({ quick }) {
  const QUEUE_BYTES = 8 * MiB
  const big = { count: 1000, commands: 10_000, pad: 8 } // 10 000 × 34 B: 340 KB bodies
  const data = await commands(128, 0) // the later client: 8 batches of 16
  const workersPort = await freePort()
  const statusEp = `tcp://127.0.0.1:${await freePort()}`
  const unreachable = `tcp://127.0.0.1:${await freePort()}` // nobody listens: the honest worker's results go nowhere
  const extra = [...(await ifSupported('--max-worker-capacity', MAX_WORKER_CAPACITY)), ...(await ifSupported('--hold-timeout', HOLD_TIMEOUT_MS))]
  return withGateway(
    [data.map, 'tcp://127.0.0.1:*', 'x', '1', '--min-workers', '1', '--workers-bind', `tcp://127.0.0.1:${workersPort}`, '--status', statusEp, '--queue-bytes', String(QUEUE_BYTES), ...extra],
    async (gateway, watch) => {
      if (!(await gateway.waitReady(1))) throw new Error('H5: the forked worker not ready within 15 s')
      const rogue = fixture('rogue-worker.mjs', ['--gateway', `tcp://127.0.0.1:${workersPort}`, '--id', 'h5-hoarder', '--capacity', '1000000', '--hoard', '--duration-ms', '120000'])
      let stopSampler = () => {}
      try {
        const joined = await waitFor(() => gateway.readyCount() >= 2, { timeout: 5000 })
        await sleep(500)
        const idle = memory(gateway.pid)?.rss
        let peak = idle ?? 0
        const sampler = setInterval(() => (peak = Math.max(peak, memory(gateway.pid)?.rss ?? 0)), 100)
        stopSampler = () => clearInterval(sampler)
        const flood = fixture('flood-intake.mjs', [
          '--intake', gateway.endpoint, '--kind', 'valid', '--count', String(big.count), '--rate', '0',
          '--commands', String(big.commands), '--pad', String(big.pad), '--reply-to', unreachable,
          '--duration-ms', String(quick ? 20_000 : 30_000), '--send-timeout-ms', '2000', '--linger-ms', '30000',
        ])
        const floodDone = await flood.done
        const floodResult = floodDone.json
        // Let the gateway take in what is still on its way.
        await waitFor(async () => {
          const st = await status(statusEp)
          return st === undefined || (st.counters.received >= (floodResult?.sent ?? 0) && st.queue.batches === 0)
        }, { timeout: 10_000, interval: 500 })
        const held = await status(statusEp)
        const rssHeld = memory(gateway.pid)?.rss
        const later = await client(data.file, gateway.endpoint, ['--result-timeout', '3000', '--max-resends', '4', '--send-retries', '2'])
        stopSampler()
        const end = await status(statusEp)
        const r = (await rogue.stop()).json
        return { extra, joined, queueBytes: QUEUE_BYTES, big, flood: floodResult, floodWallMs: floodDone.ms, idle, peak, rssHeld, held, end, later, rogue: r, gatewayDied: watch.exited, crash: crashLines(gateway.log.tail) }
      } finally {
        stopSampler()
        rogue.stop()
      }
    },
  )
}

function h5Rows(x) {
  const bound = x.queueBytes + 64 * MiB
  const growth = x.peak - x.idle
  const rogueHeld = x.held?.workers?.find((w) => w.id === 'h5-hoarder')?.inFlight
  const f = x.flood
  return [
    row('H5', `hoarder (capacity 1 000 000, never done) + 1 honest forked worker; --queue-bytes 8 MiB${x.extra.length ? `; ${x.extra.join(' ')}` : ''}; ${x.big.count} batches × ${x.big.commands} commands (${f ? `${Math.round(f.bodyBytes / 1000)} KB` : '?'} bodies)`, f ? `${f.sent} sent, ${f.unsent} unsent (flooder ran ${s(x.floodWallMs)}); rogue received ${x.rogue?.tasks ?? '?'}` : 'flooder gave no counts'),
    row('H5', 'batches the gateway held after the flood (hoarder in flight; queued)', x.held ? `${rogueHeld ?? '?'}; ${x.held.queue.batches} (${fmtMB(x.held.queue.bytes)})` : 'no status (gateway gone?)'),
    row('H5', 'gateway RSS idle / held / peak (growth)', `${fmtMB(x.idle)} / ${x.rssHeld ? fmtMB(x.rssHeld) : '—'} / ${fmtMB(x.peak)} (+${fmtMB(growth)})`, `growth ≤ queue-bytes + 64 MB = ${fmtMB(bound)}`, growth <= bound),
    row('H5', 'later client (8 batches × 16, result timeout 3 s, 4 resends): lost batches', x.later.error ? `client failed: ${x.later.error}` : `${x.later.lostBatches ? x.later.lost / 16 : '?'} of 8 (${JSON.stringify(x.later.lostBatches)}, ${x.later.resends} resends, ${s(x.later.elapsedMs)})`, 0, x.later.lost === 0),
    row('H5', 'gateway alive', x.gatewayDied ? gatewayFate({ exited: x.gatewayDied }) : 'yes', 'yes', !x.gatewayDied),
  ]
}

// --- H7 a big client's backlog ----------------------------------------------------------

async function h7({ quick }) {
  const perBatch = quick ? 5_000 : 10_000
  const bigData = await commands(4 * perBatch, 1)
  const smallData = await commands(16, 1)
  const statusEp = `tcp://127.0.0.1:${await freePort()}`
  return withGateway(
    [bigData.map, 'tcp://127.0.0.1:*', 'x', '2', '--min-workers', '2', '--status', statusEp, '--grace', '3000'],
    async (gateway, watch) => {
      if (!(await gateway.waitReady(2))) throw new Error('H7: 2 workers not ready within 15 s')
      let bigChild
      const bigRun = run(runClient, [bigData.file, String(perBatch), 'tcp://127.0.0.1:*', gateway.endpoint, '--json', '--log-level', 'error', '--result-timeout', '120000'], {
        onStart: (c) => (bigChild = c),
      })
      try {
        const dispatched = await waitFor(async () => ((await status(statusEp))?.counters.dispatched ?? 0) >= 4, { timeout: 15_000, interval: 200 })
        const small = await client(smallData.file, gateway.endpoint, ['--result-timeout', '60000'])
        const bigRunning = bigChild.exitCode === null
        bigChild.kill('SIGTERM') // its Ctrl+C: abort, the gateway cancels what runs
        const bigResult = await bigRun
        return { perBatch, dispatched, small, bigRunning, big: (() => { try { return clientSummary(bigResult) } catch { return { code: bigResult.code } } })(), gatewayDied: watch.exited }
      } finally {
        if (bigChild.exitCode === null) bigChild.kill('SIGKILL')
      }
    },
  )
}

function h7Rows(x) {
  return [
    row('H7', `client A: 4 batches × ${x.perBatch} commands of 1 s (2 forked workers × concurrency 1024); then client B: 1 batch of 16`, `A's 4 batches dispatched: ${x.dispatched ? 'yes' : 'not seen in 15 s'}; A still running when B ended: ${x.bigRunning ? 'yes' : 'no'}`),
    row('H7', "client B's elapsed (16 commands of 1 s)", x.small.error ? `client failed: ${x.small.error}` : `${s(x.small.elapsedMs)} (ok ${x.small.ok}, lost ${x.small.lost})`, '≤ 2.2 s, 0 lost', x.small.elapsedMs <= 2200 && x.small.lost === 0),
    row('H7', 'gateway alive', x.gatewayDied ? gatewayFate({ exited: x.gatewayDied }) : 'yes', 'yes', !x.gatewayDied),
  ]
}

// --- the scenario ------------------------------------------------------------------------

/** Runs one part; a failure becomes a FAILED row, and the other parts still run. */
async function part(id, name, rows, raw, fn, toRows) {
  const t0 = performance.now()
  try {
    const result = await fn()
    raw[id] = { ...raw[id], ...(Array.isArray(result) ? { phases: result } : result), durationMs: performance.now() - t0 }
    rows.push(...toRows(result))
  } catch (error) {
    console.error(`${id} failed:`, error)
    rows.push(row(id, name, `FAILED: ${String(error?.message ?? error).split('\n')[0].replaceAll('|', '/')}`, '—', 'no'))
    raw[id] = { error: String(error?.stack ?? error), durationMs: performance.now() - t0 }
  }
}

export async function h({ quick }) {
  const rows = []
  const raw = {}
  const durationMs = quick ? 10_000 : 60_000
  await part('H1', 'flood', rows, raw, async () => {
    const phases = []
    // Distinct closed ports per phase: the second phase's replyTos are all new too.
    phases.push(await h1Phase('malformed', { durationMs, portBase: 21_000 }))
    phases.push(await h1Phase('valid', { durationMs, portBase: 21_000 + Math.ceil((durationMs / 1000) * RATE) + 100 }))
    return phases
  }, (phases) => phases.flatMap(h1Rows))
  await part('H3', 'greedy capacity', rows, raw, h3, h3Rows)
  await part('H4', 'repeated ready', rows, raw, h4, h4Rows)
  await part('H5', 'hoarding', rows, raw, () => h5({ quick }), h5Rows)
  await part('H7', 'big backlog', rows, raw, () => h7({ quick }), h7Rows)
  return { rows, raw }
}
