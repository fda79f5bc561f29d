// Zero-wait throughput end to end (client → gateway → workers → client),
// against B1, raw one-hop zeromq.js of the same batch size:
//   P2  batch 256, rate from the client's own JSON summary (commands / elapsedMs)
//   P3  the same at batch 16
//   P7  scaling: 1/2/4 workers, and 1/4/16 concurrent client processes;
//       aggregate rate = all commands / wall from the first client's start to
//       the last one's exit (so it includes each client's node start-up)
import { cpus } from 'node:os'
import { base as baseData, commands } from './data.mjs'
import { fmtInt, fmtS, run, runClient, sleep, startServer } from './proc.mjs'
import { parseSummary } from './wall.mjs'

/**
 * Starts a gateway with `serverArgs` on `map`, waits the usual moment for its
 * workers, runs `files` (one client process each, all at once, each with
 * `clientArgs` added) and stops it. Every client must get every command back ok.
 */
export async function clients(map, serverArgs, files, size, clientArgs = []) {
  const server = await startServer([map, 'tcp://127.0.0.1:*', 'x', ...serverArgs])
  try {
    await sleep(500)
    const started = performance.now()
    const runs = await Promise.all(
      files.map((data) => run(runClient, [data.file, String(size), 'tcp://127.0.0.1:*', server.endpoint, '--json', ...clientArgs])),
    )
    const wall = performance.now() - started
    const summaries = runs.map(parseSummary)
    summaries.forEach((s, i) => {
      // Fail loudly: a throughput figure with lost commands means nothing.
      if (s.commands !== files[i].count || s.counts.ok !== s.commands) {
        throw new Error(`client ${i}: ${files[i].count} in file, summary says ${s.commands} commands, counts ${JSON.stringify(s.counts)}, lost batches ${JSON.stringify(s.lostBatches)}`)
      }
    })
    return { wall, summaries }
  } finally {
    await server.stop()
  }
}

async function endToEnd(id, size, count, b1) {
  const data = await commands(count, 0)
  const { summaries } = await clients(data.map, [String(Math.max(1, cpus().length))], [data], size)
  const s = summaries[0]
  const rate = s.commands / (s.elapsedMs / 1000)
  const goal = id === 'P2' ? 1 / 3 : 1 / 4
  return {
    id,
    scenario: `${fmtInt(s.commands)} zero-wait commands, batch ${size}, ${cpus().length} workers`,
    measured: `${fmtInt(rate)} commands/s end to end (in-run ${fmtS(s.elapsedMs)})`,
    baseline: `B1@${size}: ${fmtInt(b1.rate)} objects/s raw one-hop`,
    ratio: rate / b1.rate,
    goal: `ratio ≥ 1/${Math.round(1 / goal)}`,
    met: rate / b1.rate >= goal ? 'yes' : 'no',
    raw: { rate, summary: s, b1 },
  }
}

export const p2 = ({ quick }, base) => endToEnd('P2', 256, quick ? 200_000 : 1_000_000, base.b1_256)
export const p3 = ({ quick }, base) => endToEnd('P3', 16, quick ? 50_000 : 200_000, base.b1_16)

/** P7: one row per setting; a failed setting becomes a failed row, the others still run. */
export async function p7({ quick }, base, ids) {
  const count = quick ? 50_000 : 200_000
  const size = 256
  const { map } = await baseData(0)
  const settings = [
    ...[1, 2, 4].map((w) => ({ id: `P7.w${w}`, label: `${w} worker${w > 1 ? 's' : ''} (min = max), 1 client`, serverArgs: ['--max-workers', String(w), '--min-workers', String(w)], clients: 1 })),
    ...[1, 4, 16].map((c) => ({ id: `P7.c${c}`, label: `${c} client${c > 1 ? 's' : ''}, default workers (max 2, min 1)`, serverArgs: [], clients: c })),
  ]
  const rows = []
  for (const setting of settings.filter((s) => ids.has(s.id))) {
    console.error(`[bench]   ${setting.id}: ${setting.label}`)
    const row = { id: setting.id, scenario: `scaling, ${fmtInt(count)} zero-wait commands, batch ${size}: ${setting.label}`, goal: 'report', met: 'n/a' }
    try {
      // Each client gets its share of the commands, as its own file.
      const share = Math.ceil(count / setting.clients)
      const files = []
      for (let i = 0, left = count; i < setting.clients; i++, left -= share) files.push(await commands(Math.min(share, left), 0))
      const { wall, summaries } = await clients(map, setting.serverArgs, files, size)
      const rate = count / (wall / 1000)
      const inRun = Math.max(...summaries.map((s) => s.elapsedMs))
      rows.push({
        ...row,
        measured: `${fmtInt(rate)} commands/s aggregate (wall ${fmtS(wall)}, longest in-run ${fmtS(inRun)})`,
        baseline: `B1@${size}: ${fmtInt(base.b1_256.rate)} objects/s`,
        ratio: rate / base.b1_256.rate,
        raw: { rate, wallMs: wall, inRunMs: summaries.map((s) => s.elapsedMs), clients: setting.clients, serverArgs: setting.serverArgs },
      })
    } catch (error) {
      rows.push({ ...row, failed: error })
    }
  }
  return rows
}
