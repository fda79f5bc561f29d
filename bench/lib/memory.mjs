// P5: memory over a big run. A 1 000 000-line zero-wait commands file through
// run-client as a process, sampling /proc/<pid>/status:
//   client   VmHWM/VmRSS every 100 ms; peak = the larger of the last VmHWM
//            read (the kernel's own high-water mark) and the largest VmRSS
//   gateway  VmRSS every 250 ms: at start (before the client), peak, and end
//            (right after the client exits). "Flat" means end ≤ start + 20 MB.
// The client's baseline is a bare node process's VmHWM, from the same run.
import { cpus } from 'node:os'
import { commands } from './data.mjs'
import { children, every, fmtInt, fmtMB, memory, node, run, runClient, sleep, startServer } from './proc.mjs'
import { parseSummary } from './wall.mjs'

const MB = 1024 * 1024
const CLIENT_GOAL = 120 * MB
const FLAT_SLACK = 20 * MB

/** VmHWM of a bare node process that reads its own status just before exiting. */
async function bareNodeHwm() {
  const result = await run(node, ['-e', "process.stdout.write(require('fs').readFileSync('/proc/self/status', 'utf8'))"])
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(result.out)[1]) * 1024
}

export async function p5({ quick }) {
  const count = quick ? 200_000 : 1_000_000
  const data = await commands(count, 0)
  const bare = await bareNodeHwm()
  const server = await startServer([data.map, 'tcp://127.0.0.1:*', 'x', String(Math.max(1, cpus().length))])
  const gateway = { samples: [], workersPeak: 0 }
  const client = { rssPeak: 0, hwm: 0, samples: 0 }
  let stopGatewaySampler = () => {}
  let stopClientSampler = () => {}
  let summary
  try {
    await sleep(500) // the usual moment for the first workers, so "start" is the settled gateway
    stopGatewaySampler = every(250, () => {
      const m = memory(server.pid)
      if (m) gateway.samples.push(m.rss)
      // Workers are not the gateway, but their sum is worth keeping in the raw numbers.
      const workers = children(server.pid).map(memory).reduce((sum, w) => sum + (w?.rss ?? 0), 0)
      gateway.workersPeak = Math.max(gateway.workersPeak, workers)
    })
    const result = await run(runClient, [data.file, '256', 'tcp://127.0.0.1:*', server.endpoint, '--json'], {
      onStart: (child) => {
        stopClientSampler = every(100, () => {
          const m = memory(child.pid)
          if (!m) return
          client.samples++
          client.rssPeak = Math.max(client.rssPeak, m.rss)
          client.hwm = Math.max(client.hwm, m.hwm)
        })
      },
    })
    stopClientSampler()
    // "End" is the gateway right after the run, before it is told to stop.
    const end = memory(server.pid)
    if (end) gateway.samples.push(end.rss)
    summary = parseSummary(result)
    if (summary.counts.ok !== count) throw new Error(`P5: expected ${count} ok, got ${JSON.stringify(summary.counts)}`)
  } finally {
    stopClientSampler()
    stopGatewaySampler()
    await server.stop()
  }
  const clientPeak = Math.max(client.rssPeak, client.hwm)
  const [start, end] = [gateway.samples[0], gateway.samples.at(-1)]
  const peak = Math.max(...gateway.samples)
  return [
    {
      id: 'P5a',
      scenario: `client memory: ${fmtInt(count)}-line zero-wait file, batch 256, run-client as a process`,
      measured: `peak ${fmtMB(clientPeak)} (VmHWM ${fmtMB(client.hwm)}, max sampled VmRSS ${fmtMB(client.rssPeak)}, ${client.samples} samples)`,
      baseline: `bare node VmHWM ${fmtMB(bare)}`,
      ratio: clientPeak / bare,
      goal: `peak ≤ ${fmtMB(CLIENT_GOAL)}`,
      met: clientPeak <= CLIENT_GOAL ? 'yes' : 'no',
      raw: { ...client, peak: clientPeak, bareNodeHwm: bare, elapsedMs: summary.elapsedMs },
    },
    {
      id: 'P5b',
      scenario: `gateway memory over the same run (run-server VmRSS every 250 ms)`,
      measured: `start ${fmtMB(start)}, peak ${fmtMB(peak)}, end ${fmtMB(end)} (workers' sum peak ${fmtMB(gateway.workersPeak)})`,
      baseline: `its own start ${fmtMB(start)}`,
      ratio: end / start,
      goal: 'flat: end ≤ start + 20 MB',
      met: end <= start + FLAT_SLACK ? 'yes' : 'no',
      raw: { startBytes: start, peakBytes: peak, endBytes: end, samples: gateway.samples, workersPeakBytes: gateway.workersPeak },
    },
  ]
}
