// S1–S3: stopping under load. Seed data (1 s commands), capacity 4, so the
// pool grows; the signal goes out once a few workers hold work, and the time
// runs until no gateway or worker process is left. Baseline: the 1 s the
// running commands need to finish.
import { alive, children, fmtS, killGroup, median, removeGatewaySocket, runClient, runServer, start, startAndWaitFor, waitFor } from './proc.mjs'

const HOWS = [
  { id: 'S1', how: 'Ctrl+C to the group' },
  { id: 'S2', how: 'SIGTERM' },
  { id: 'S3', how: 'SIGKILL' },
]

async function stopOnce(how) {
  const { child: server, match } = await startAndWaitFor(
    runServer,
    ['tests/data/server_data.txt', 'tcp://127.0.0.1:*', 'x', '32', '--capacity', '4', '--log-level', 'warn'],
    /listening (\S+)/,
    { stdio: ['ignore', 'pipe', 'ignore'] },
  )
  const client = start(runClient, [
    'tests/data/client_data.txt', '4', 'tcp://127.0.0.1:*', match[1],
    '--send-retries', '0', '--retry-delay', '200', '--result-timeout', '3000', '--max-resends', '0',
  ], { stdio: 'ignore' })
  try {
    // Load: wait until the pool has grown to three workers (the gateway grows it
    // only while every worker is full), so several processes hold running commands.
    await waitFor(() => children(server.pid).length >= 3, { timeout: 5000 })
    const pids = [server.pid, ...children(server.pid)]
    const started = performance.now()
    // The server runs in its own process group: -pid is what a terminal's Ctrl+C reaches.
    if (how === 'Ctrl+C to the group') process.kill(-server.pid, 'SIGINT')
    else process.kill(server.pid, how)
    await waitFor(() => !pids.some(alive), { timeout: 15_000, interval: 5 })
    const ms = performance.now() - started
    return { ms, processes: pids.length, left: pids.filter(alive).length }
  } finally {
    killGroup(server.pid) // anything that outlived the 15 s
    killGroup(client.pid)
    removeGatewaySocket(server.pid) // left behind after SIGKILL
  }
}

export async function stop({ quick }, _base, ids) {
  const rows = []
  for (const { id, how } of HOWS.filter((h) => ids.has(h.id))) {
    const results = []
    for (let i = 0; i < (quick ? 2 : 5); i++) results.push(await stopOnce(how))
    const times = results.map((r) => r.ms)
    const left = results.reduce((n, r) => n + r.left, 0)
    const processes = Math.max(...results.map((r) => r.processes))
    const time = median(times)
    rows.push({
      id,
      scenario: `stop under load: ${how} (${processes} processes)`,
      measured: `${fmtS(time)} to zero processes (max ${fmtS(Math.max(...times))}); ${left} left behind`,
      baseline: '1.000 s: the running commands\' wait',
      ratio: time / 1000,
      goal: '≤ 3 s, none left',
      met: time <= 3000 && left === 0 ? 'yes' : 'no',
      raw: { runs: results },
    })
  }
  return rows
}
