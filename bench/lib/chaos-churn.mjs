// C1 worker churn: a random forked worker of the gateway is SIGKILLed every
// 200 ms while run-client pushes a big file through it. What a dead worker
// held goes back to the queue (attempt + 1); a batch that ran but whose
// `done` never arrived runs twice, and the client must drop the duplicate.
// Nothing may be lost, nothing counted twice, and the pool must refill.
import { prng, row, startGateway, workerPids, clientSummary } from './chaos-common.mjs'
import { commands } from './data.mjs'
import { fmtS, run, runClient, sleep } from './proc.mjs'

const KILL_EVERY_MS = 200
const WORKERS = 4

export async function c1({ quick, seed }) {
  const count = quick ? 5_000 : 20_000
  const data = await commands(count, 0.05)
  const random = prng(seed)
  const gateway = await startGateway([
    data.map, 'tcp://127.0.0.1:*', 'x', String(WORKERS),
    '--min-workers', String(WORKERS), '--capacity', '8', '--max-attempts', '20',
  ])
  let stopKiller = () => {}
  try {
    // Churn starts on a full pool, so the first kills hit workers that hold work.
    if (!(await gateway.waitReady(WORKERS))) throw new Error(`C1: ${WORKERS} workers not ready within 15 s`)
    const kills = { done: 0, skipped: 0, minAlive: WORKERS }
    const result = await run(runClient, [data.file, '16', 'tcp://127.0.0.1:*', gateway.endpoint, '--json'], {
      onStart: () => {
        const timer = setInterval(() => {
          const pids = workerPids(gateway.pid)
          kills.minAlive = Math.min(kills.minAlive, pids.length)
          // Never the last one: with no worker at all the run only waits for a fork.
          if (pids.length < 2) return void kills.skipped++
          try {
            process.kill(random.pick(pids), 'SIGKILL')
            kills.done++
          } catch {
            // it exited between the listing and the kill
          }
        }, KILL_EVERY_MS)
        stopKiller = () => clearInterval(timer)
      },
    })
    stopKiller()
    const summary = clientSummary(result)
    // The scenario's own measure point: the pool 3 s after the run, given time to refill.
    await sleep(3000)
    const alive = workerPids(gateway.pid).length
    const gatewayAlive = gateway.running()
    const stopped = await gateway.stop()
    const c = summary.counts
    const countedTwice = c.ok + c.unknown + c.failed + c.timeout + c.lost - summary.commands
    const raw = { count, seed, kills, summary, workersAfter3s: alive, gatewayAlive, wallMs: result.ms, exit: stopped.exit, clean: stopped.clean }
    return {
      raw,
      rows: [
        row('C1', `worker churn: SIGKILL a random worker every ${KILL_EVERY_MS} ms (${WORKERS} workers × capacity 8, batch 16, ${count} × 0.05 s)`, `${kills.done} kills (${kills.skipped} skipped at < 2 workers; fewest alive ${kills.minAlive})`),
        row('C1', 'commands / ok / lost', `${summary.commands} / ${c.ok} / ${c.lost}`, `${count} / ${count} / 0`, c.ok === count && c.lost === 0 && summary.commands === count),
        row('C1', 'duplicate results dropped (client)', `${summary.duplicates} (resends ${summary.resends})`),
        row('C1', 'counted twice (ok+unknown+failed+timeout+lost − commands)', countedTwice, 0, countedTwice === 0),
        row('C1', 'workers alive 3 s after the run', `${alive}${gatewayAlive ? '' : ' (gateway dead!)'}`, WORKERS, alive === WORKERS && gatewayAlive),
        row('C1', 'wall time of run-client', fmtS(result.ms)),
        row('C1', 'gateway exit line after SIGINT', stopped.exit ? `${stopped.exit.batches} batches · ${stopped.exit.workersLost} workers lost` : 'none', 'clean exit', stopped.clean && stopped.exit !== undefined),
      ],
    }
  } finally {
    stopKiller()
    if (gateway.running()) await gateway.stop()
  }
}
