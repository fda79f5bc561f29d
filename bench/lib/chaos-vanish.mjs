// C5 vanishing clients. A raw CGP/1 driver (procs/vanishing-clients.mjs)
// makes short-lived clients that send one task and close their results
// socket before the result comes. Each result then has nowhere to go: the
// worker's reply socket (immediate, so nothing queues unseen) fails after
// 4 attempts of 1 s and is closed; the cache holds at most 256 sockets and
// closes idle ones after 60 s. Open fds of the gateway and its workers are
// sampled before the first client, after every 100 clients, every 250 ms in
// between (for the peak) and 5 s after the last; a normal client every 100
// shows that the gateway still serves.
import { join } from 'node:path'
import { fdCount, row, startGateway, workerPids } from './chaos-common.mjs'
import { commands } from './data.mjs'
import { every, fmtMB, median, memory, node, root, run, sleep, waitFor } from './proc.mjs'

const DRIVER = join(root, 'bench', 'lib', 'procs', 'vanishing-clients.mjs')
const DROPPED = 'result dropped: the client did not accept it' // a worker's log line per undelivered result
const CHECK_EVERY = 100
const BATCH = 4
const END_WAIT_MS = 5000 // the scenario's measure point after the last client

export async function c5({ quick }) {
  const count = quick ? 200 : 1000
  const data = await commands(512, 0.2)
  const [address, command] = [data.first.slice(0, data.first.lastIndexOf(':')), data.first.slice(data.first.lastIndexOf(':') + 1)]
  const gateway = await startGateway([data.map, 'tcp://127.0.0.1:*', 'x', '2', '--min-workers', '2'])
  const samples = []
  const sample = (label) => {
    const workers = workerPids(gateway.pid)
    const s = {
      label,
      t: performance.now(),
      gateway: fdCount(gateway.pid),
      workers: workers.reduce((sum, pid) => sum + (fdCount(pid) ?? 0), 0),
      perWorker: workers.map(fdCount),
      gatewayRss: memory(gateway.pid)?.rss,
      dropped: gateway.log.byMsg.get(DROPPED) ?? 0,
    }
    if (label !== 'tick') samples.push(s)
    return s
  }
  let peak = { gateway: 0, workers: 0 }
  let stopSampler = () => {}
  try {
    // "Start" is a settled gateway: both workers forked and connected.
    if (!(await gateway.waitReady(2))) throw new Error('C5: 2 workers not ready within 15 s')
    const start = sample('start')
    stopSampler = every(250, () => {
      const s = sample('tick')
      peak = { gateway: Math.max(peak.gateway, s.gateway ?? 0), workers: Math.max(peak.workers, s.workers) }
    })
    let driverLines = ''
    const result = await run(node, [DRIVER, gateway.endpoint, address, command, String(count), String(CHECK_EVERY), String(BATCH), '20000'], {
      onStart: (child) =>
        child.stdout.on('data', (d) => {
          // `clients <n>`: sample right then, before the driver's check client runs.
          driverLines += d
          for (const m of driverLines.matchAll(/^clients (\d+)$/gm)) sample(`after ${m[1]}`)
          driverLines = driverLines.slice(driverLines.lastIndexOf('\n') + 1)
        }),
    })
    const driverDone = performance.now()
    const driver = JSON.parse(result.out.trim().split('\n').at(-1) ?? 'null')
    if (driver === null || result.code !== 0) throw new Error(`C5 driver exited ${result.code}: ${result.err.slice(-2000)}`)
    await sleep(END_WAIT_MS)
    const end = sample('end (+5 s)')
    // Beyond the scenario: when did the workers give up on the last vanished result?
    const drained = await waitFor(() => (gateway.log.byMsg.get(DROPPED) ?? 0) >= count, { timeout: 30_000, interval: 100 })
    const afterDrain = sample(drained ? 'all results dropped' : 'drain wait timed out (+35 s)')
    stopSampler()
    for (const s of samples) peak = { gateway: Math.max(peak.gateway, s.gateway ?? 0), workers: Math.max(peak.workers, s.workers) }
    const alive = gateway.running() && workerPids(gateway.pid).length === 2
    const stopped = await gateway.stop()
    const c = driver.checks
    // A check's batch waits behind vanished ones: each holds a worker slot through its 4 failed sends.
    const checkMs = c.ms.length
      ? `latency median ${(median(c.ms) / 1000).toFixed(2)} s, worst ${(Math.max(...c.ms) / 1000).toFixed(2)} s, ${c.ms.filter((ms) => ms > 1000).length} over 1 s`
      : '—'
    const fds = (s) => `${s.gateway} / ${s.workers}`
    const growth = end.workers - start.workers
    return {
      raw: { count, samples, peak, driver, exit: stopped.exit, drainedAfterMs: afterDrain.t - driverDone, log: Object.fromEntries(gateway.log.byMsg) },
      rows: [
        row('C5', `vanishing clients: ${count} clients each send one ${BATCH}-command task (0.2 s) and close their PULL at once; 2 workers`, `driver ${(driver.elapsedMs / 1000).toFixed(1)} s`),
        row('C5', 'fds gateway / workers (sum) at start', fds(start)),
        row('C5', 'fds gateway / workers at peak (every 250 ms + per 100 clients)', fds(peak)),
        row('C5', 'fds gateway / workers 5 s after the last client', fds(end), `≈ start (gateway ≤ +10; workers ≤ +20: the ${count / CHECK_EVERY} check clients' sockets stay cached up to 60 s)`, end.gateway <= start.gateway + 10 && growth <= 20),
        row('C5', 'fds per 100 clients (gateway / workers)', samples.filter((s) => s.label.startsWith('after')).map((s) => `${s.gateway}/${s.workers}`).join(' ')),
        row('C5', 'results the workers dropped (log) at +5 s / later', `${end.dropped} / ${afterDrain.dropped} (${afterDrain.label}, ${((afterDrain.t - driverDone) / 1000).toFixed(1)} s after the last client; fds then ${fds(afterDrain)})`, count),
        row('C5', 'served checks ok (normal client every 100)', `${c.ok}/${c.total} (${checkMs}${c.failures.length ? `; ${c.failures.join('; ')}` : ''})`, `${c.total}/${c.total}`, c.ok === c.total && c.total > 0),
        row('C5', 'foreign results seen by check clients (reused port)', driver.foreign, 0, driver.foreign === 0),
        row('C5', 'gateway RSS start / end', `${fmtMB(start.gatewayRss)} / ${fmtMB(end.gatewayRss)}`),
        row('C5', 'gateway and 2 workers alive at the end; messages received (exit line)', `${alive ? 'yes' : 'NO'}; ${stopped.exit?.messages ?? '?'}`, `yes; ${count + c.total}`, alive && stopped.exit?.messages === count + c.total),
      ],
    }
  } finally {
    stopSampler()
    if (gateway.running()) await gateway.stop()
  }
}
