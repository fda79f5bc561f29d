// C11 Ctrl+C, repeated. A gateway in its own process group (8 workers ×
// capacity 4, 1 s commands) serves a 512-command run in batches of 4; once
// the pool has grown to 3 workers, SIGINT goes to the gateway's group only
// (what a terminal's Ctrl+C does to a server started there), never to the
// client. The gateway must reject what is queued (`shutting-down`), let the
// workers finish and deliver what they run, and leave with its workers.
// The client runs with --max-resends 0, so every batch ends in exactly one
// of: ok, rejected shutting-down, or lost without a result (a bug here).
import { clientSummary, row, startGateway, workerPids } from './chaos-common.mjs'
import { commands } from './data.mjs'
import { alive, killGroup, median, removeGatewaySocket, run, runClient, waitFor } from './proc.mjs'

const COUNT = 512
const BATCH = 4
const GRACE_MS = 10_000 // run-server's default --grace
const BOUND_MS = GRACE_MS + 1000 // grace, plus a second for the exit itself

async function once(data) {
  const gateway = await startGateway([data.map, 'tcp://127.0.0.1:*', 'x', '8', '--capacity', '4'])
  let clientPid
  try {
    const clientStarted = performance.now()
    const client = run(runClient, [
      data.file, String(BATCH), 'tcp://127.0.0.1:*', gateway.endpoint,
      '--json', '--result-timeout', '30000', '--max-resends', '0',
    ], { onStart: (child) => (clientPid = child.pid) })
    // Under load: the pool has grown (it grows only while every worker is full) and
    // the client has had 300 ms to hand over its batches.
    const loaded = await waitFor(() => workerPids(gateway.pid).length >= 3 && performance.now() - clientStarted >= 300, { timeout: 10_000 })
    if (!loaded) throw new Error('C11: the gateway never had 3 workers')
    const seen = new Set([gateway.pid, ...workerPids(gateway.pid)])
    const processes = seen.size
    const signalled = performance.now()
    process.kill(-gateway.pid, 'SIGINT')
    // Until neither the gateway nor any worker it has (had) is alive; children are
    // re-listed on every poll in case one was forked right at the signal.
    const gone = await waitFor(() => {
      for (const pid of workerPids(gateway.pid)) seen.add(pid)
      return ![...seen].some(alive)
    }, { timeout: BOUND_MS + 4000, interval: 5 })
    const ms = performance.now() - signalled
    const left = [...seen].filter(alive).length
    const stopped = await gateway.stop() // already gone: collects the exit line
    const result = await client
    const summary = clientSummary(result)
    const lost = summary.lostBatches
    const rejectedSD = lost.rejected['shutting-down'] ?? 0
    const otherRejected = Object.entries(lost.rejected).filter(([reason, n]) => reason !== 'shutting-down' && n > 0)
    const delivered = summary.counts.lost === rejectedSD * BATCH && lost.noResult === 0
    return {
      ms: gone ? ms : undefined,
      processes,
      left,
      gatewayExit: stopped.status,
      exitLine: stopped.exit,
      ok: summary.counts.ok,
      lostCommands: summary.counts.lost,
      rejectedShuttingDown: rejectedSD,
      noResult: lost.noResult,
      otherLosses: { unsent: lost.unsent, interrupted: lost.interrupted, rejected: Object.fromEntries(otherRejected) },
      delivered,
      clientMs: result.ms,
    }
  } finally {
    killGroup(gateway.pid) // anything that outlived the wait
    removeGatewaySocket(gateway.pid)
    if (clientPid !== undefined) killGroup(clientPid)
  }
}

export async function c11({ quick }) {
  const runs = quick ? 5 : 20
  const data = await commands(COUNT, 1)
  const results = []
  for (let i = 0; i < runs; i++) results.push(await once(data))
  const times = results.map((r) => r.ms).filter((ms) => ms !== undefined)
  const left = results.reduce((n, r) => n + r.left, 0)
  const notDelivered = results.filter((r) => r.noResult > 0).length
  const badAccounting = results.filter((r) => !r.delivered).length
  const s = (ms) => (ms / 1000).toFixed(2)
  const max = Math.max(...results.map((r) => r.ms ?? Infinity))
  return {
    raw: { runs: results, boundMs: BOUND_MS },
    rows: [
      row('C11', `Ctrl+C to the gateway's group under load, ${runs} runs (8 workers × capacity 4, ${COUNT} × 1 s, batch ${BATCH}, signal at ≥ 3 workers)`, `processes at the signal: ${Math.min(...results.map((r) => r.processes))}–${Math.max(...results.map((r) => r.processes))}`),
      row('C11', 'seconds to zero processes, per run', results.map((r) => (r.ms === undefined ? 'never' : s(r.ms))).join(' ')),
      row('C11', 'seconds to zero processes: median / max', `${times.length ? s(median(times)) : '—'} / ${Number.isFinite(max) ? s(max) : 'never'}`, `max ≤ ${s(BOUND_MS)} (grace ${s(GRACE_MS)} + 1)`, Number.isFinite(max) && max <= BOUND_MS),
      row('C11', 'processes left (all runs)', left, 0, left === 0),
      row('C11', 'per run ok / rejected shutting-down (commands)', results.map((r) => `${r.ok}/${r.rejectedShuttingDown * BATCH}`).join(' ')),
      row('C11', 'runs where a running batch was not delivered (noResult > 0)', notDelivered, 0, notDelivered === 0),
      row('C11', 'runs where lost ≠ 4 × rejected shutting-down batches', badAccounting, 0, badAccounting === 0),
      row('C11', 'gateway exit codes', [...new Set(results.map((r) => r.gatewayExit?.code ?? r.gatewayExit?.signal ?? 'none'))].join(', '), 0, results.every((r) => r.gatewayExit?.code === 0)),
    ],
  }
}
