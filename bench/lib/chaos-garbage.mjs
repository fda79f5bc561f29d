// C6 garbage. One gateway (2 workers, worker port on tcp so that a stranger
// can reach it, 64 KiB message limit) takes a seeded stream of malformed
// messages on both its sockets (procs/garbage.mjs), then serves a normal
// 500-command run. Every malformed message must be counted and dropped (or
// answered `rejected`), none may stop a process, and memory must not grow
// with the garbage.
import { join } from 'node:path'
import { clientSummary, freePort, row, startGateway, workerPids } from './chaos-common.mjs'
import { commands } from './data.mjs'
import { fmtInt, fmtMB, memory, node, root, run, runClient, sleep } from './proc.mjs'

const DRIVER = join(root, 'bench', 'lib', 'procs', 'garbage.mjs')
const MAX_MESSAGE = 65_536
const SETTLE_MS = 2000 // the scenario's second RSS reading, after the garbage stopped
const NORMAL = 500

export async function c6({ quick, seed }) {
  const total = quick ? 20_000 : 100_000
  const data = await commands(NORMAL, 0)
  const workersPort = await freePort()
  const gateway = await startGateway([
    data.map, 'tcp://127.0.0.1:*', 'x', '2', '--min-workers', '2',
    '--workers-bind', `tcp://127.0.0.1:${workersPort}`, '--max-message-size', String(MAX_MESSAGE),
  ])
  try {
    if (!(await gateway.waitReady(2))) throw new Error('C6: 2 workers not ready within 15 s')
    const workersBefore = workerPids(gateway.pid)
    const rssBefore = memory(gateway.pid).rss
    let rssPeak = rssBefore
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, memory(gateway.pid)?.rss ?? 0)), 100)
    let driverResult
    try {
      driverResult = await run(node, [DRIVER, gateway.endpoint, `tcp://127.0.0.1:${workersPort}`, String(total), String(seed), String(MAX_MESSAGE)])
    } finally {
      clearInterval(sampler)
    }
    const driver = JSON.parse(driverResult.out.trim().split('\n').at(-1) || 'null')
    if (driverResult.code !== 0 || driver === null) throw new Error(`C6 driver exited ${driverResult.code}: ${driverResult.err.slice(-2000)}`)
    const rssAfter = memory(gateway.pid)?.rss
    await sleep(SETTLE_MS)
    const rssSettled = memory(gateway.pid)?.rss
    // The same gateway and the same two workers must still be there, and still serve.
    const workersAfter = workerPids(gateway.pid)
    const sameWorkers = workersAfter.length === 2 && workersBefore.every((pid) => workersAfter.includes(pid))
    const gatewayAlive = gateway.running()
    const normal = clientSummary(await run(runClient, [data.file, '16', 'tcp://127.0.0.1:*', gateway.endpoint, '--json']))
    const aliveBeforeStop = gateway.running() && workerPids(gateway.pid).length === 2
    const stopped = await gateway.stop()

    const { intake, workers } = driver.sent
    const tooLarge = driver.answers.rejected['too-large'] ?? 0
    // Every garbage message that ZeroMQ let through is malformed, except a `too-large`
    // (a well-formed task claiming too many commands), which is rejected, not malformed.
    const expectedMalformed = intake.messages + workers.messages - tooLarge
    const malformed = stopped.exit?.malformed
    // The gateway's `messages` counts the intake only: garbage plus the normal run's batches.
    const normalBatches = Math.ceil(NORMAL / 16)
    const frames = (s) => `${fmtInt(s.frames)} frames in ${fmtInt(s.messages)} messages + ${s.oversize} oversize (drop seen ${s.refusedSeen}/${s.oversize})`
    const rejected = Object.entries(driver.answers.rejected).map(([r, n]) => `${n} ${r}`).join(', ') || 'none'
    return {
      raw: { total, seed, driver, rssBefore, rssPeak, rssAfter, rssSettled, exit: stopped.exit, normal, sameWorkers, gatewayAlive, log: Object.fromEntries(gateway.log.byMsg) },
      rows: [
        row('C6', `garbage: ${fmtInt(total)} frames of malformed CGP/1 (seed ${seed}), max message ${MAX_MESSAGE} B, 2 workers`, `sent in ${(driver.sendMs / 1000).toFixed(1)} s`),
        row('C6', 'sent to the intake (PUSH)', frames(intake)),
        row('C6', 'sent to the worker port (DEALER, random routing id)', frames(workers)),
        row('C6', 'gateway RSS before / peak / after / after 2 s settle', `${fmtMB(rssBefore)} / ${fmtMB(rssPeak)} / ${fmtMB(rssAfter)} / ${fmtMB(rssSettled)}`, 'settled ≤ before + 20 MB', rssSettled <= rssBefore + 20 * 1024 * 1024),
        row('C6', 'malformed counted by the gateway (exit line)', malformed === undefined ? 'no exit line' : fmtInt(malformed), `${fmtInt(expectedMalformed)} (every message let through, minus ${tooLarge} too-large)`, malformed === expectedMalformed),
        row('C6', 'intake messages received (exit line)', stopped.exit ? fmtInt(stopped.exit.messages) : '?', `${fmtInt(intake.messages)} + ${normalBatches} normal`, stopped.exit?.messages === intake.messages + normalBatches),
        row('C6', '`rejected` answers received by the garbage driver; garbage that ran', `${rejected}; ${driver.answers.results} ran`, '0 ran', driver.answers.results === 0),
        row('C6', `normal run after the garbage: ${NORMAL} × wait 0, ok / lost`, `${normal.counts.ok} / ${normal.counts.lost}`, `${NORMAL} / 0`, normal.counts.ok === NORMAL && normal.counts.lost === 0),
        row('C6', 'gateway alive, same 2 workers (before the normal run); all alive before SIGINT', `${gatewayAlive && sameWorkers ? 'yes' : `NO (gateway ${gatewayAlive}, workers ${workersBefore} → ${workersAfter})`}; ${aliveBeforeStop ? 'yes' : 'NO'}`, 'yes; yes', gatewayAlive && sameWorkers && aliveBeforeStop),
        row('C6', 'gateway exit after SIGINT', stopped.clean ? `clean (code ${stopped.status?.code})` : 'NOT clean', 'clean, code 0', stopped.clean && stopped.status?.code === 0),
      ],
    }
  } finally {
    if (gateway.running()) await gateway.stop()
  }
}
