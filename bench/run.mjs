#!/usr/bin/env node
// npm run bench [-- --quick] [-- --only seed,throughput] [-- --runs N]
//
// Every figure is printed next to a baseline measured in the same run, because
// these 2-core machines are noisy and only ratios travel:
//   seed        the original scenario (512 × 1 s, batch 16, 32 workers), client
//               wall time on the FIRST run after each fresh gateway start, against
//               the floor: 1.000 s of waiting plus a bare `node` start-up.
//   throughput  zero-wait commands end to end, against raw zeromq.js one-hop
//               PUSH→PULL of msgpack batches of the same size between two processes.
//   stop        under load (seed data, 1 s commands), seconds from Ctrl+C to the
//               process group / SIGTERM / SIGKILL of the gateway until no gateway
//               or worker process is left, against the 1 s the running commands
//               need to finish.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = fileURLToPath(new URL('..', import.meta.url))
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', default: 'seed,throughput,stop' },
    runs: { type: 'string' },
  },
})
const only = new Set(values.only.split(','))
const runs = Number(values.runs ?? (values.quick ? 3 : 7))

function sh(command, args, options = {}) {
  return new Promise((resolve) => {
    const started = performance.now()
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], ...options })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('exit', (code) => resolve({ code, out, ms: performance.now() - started }))
  })
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function startServer(args) {
  const child = spawn(process.execPath, ['bin/run-server.js', ...args, '--log-level', 'warn'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d
      if (out.includes('listening')) resolve()
    })
    child.once('exit', () => reject(new Error('run-server exited early')))
  })
  return {
    endpoint: /listening (\S+)/.exec(out)[1],
    stop: () => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGINT') }),
  }
}

async function seed() {
  const bare = []
  const walls = []
  const elapsed = []
  for (let i = 0; i < runs; i++) {
    bare.push((await sh(process.execPath, ['-e', '0'])).ms)
    const server = await startServer(['tests/data/server_data.txt', 'tcp://127.0.0.1:*', 'tcp://127.0.0.1:5556', '32'])
    // Workers fork in the background; a user starts the client a moment later.
    await new Promise((r) => setTimeout(r, 500))
    const run = await sh(process.execPath, ['bin/run-client.js', 'tests/data/client_data.txt', '16', 'tcp://127.0.0.1:*', server.endpoint])
    await server.stop()
    if (!run.out.includes('total     512')) throw new Error(`seed run ${i} did not print total 512:\n${run.out}`)
    walls.push(run.ms)
    elapsed.push(Number(/elapsed\s+([0-9.]+) s/.exec(run.out)[1]) * 1000)
  }
  const floor = 1000 + median(bare)
  return {
    scenario: 'seed: 512 × 1 s, batch 16, 32 workers, first run after start',
    value: `${(median(walls) / 1000).toFixed(3)} s wall (min ${(Math.min(...walls) / 1000).toFixed(3)}, max ${(Math.max(...walls) / 1000).toFixed(3)}); in-run ${(median(elapsed) / 1000).toFixed(3)} s`,
    baseline: `${(floor / 1000).toFixed(3)} s = 1 s wait + bare node start ${median(bare).toFixed(0)} ms`,
    ratio: median(walls) / floor,
    raw: { walls, elapsed, bare },
  }
}

/** Raw zeromq.js one hop between two processes: msgpack batches of `size` small pairs. */
async function rawOneHop(size, batches) {
  const script = `
    import { Push, Pull } from 'zeromq'
    import { Packr } from 'msgpackr'
    const packr = new Packr({ useRecords: false })
    const pull = new Pull(); await pull.bind('tcp://127.0.0.1:*')
    const endpoint = pull.lastEndpoint
    const { spawn } = await import('node:child_process')
    const sender = spawn(process.execPath, ['--input-type=module', '-e', \`
      import { Push } from 'zeromq'; import { Packr } from 'msgpackr'
      const packr = new Packr({ useRecords: false })
      const push = new Push({ sendHighWaterMark: 1000 }); push.connect('\${endpoint}')
      const pairs = Array.from({ length: ${size} }, (_, i) => ['137.72.95.' + (i % 256), 'foo'])
      for (let i = 0; i < ${batches}; i++) await push.send([packr.pack({ v: 1, type: 'task', id: String(i) }), packr.pack(pairs)])
      push.linger = 5000; push.close()\`], { stdio: 'inherit', cwd: process.cwd() })
    let n = 0, t0
    const { Unpackr } = await import('msgpackr'); const unpackr = new Unpackr({ mapsAsObjects: true })
    for await (const [h, b] of pull) { if (n === 0) t0 = performance.now(); unpackr.unpack(h); unpackr.unpack(b); if (++n === ${batches}) break }
    const ms = performance.now() - t0
    process.stdout.write(JSON.stringify({ ms }))
    pull.close(); sender.kill()
  `
  const result = await sh(process.execPath, ['--input-type=module', '-e', script])
  const { ms } = JSON.parse(result.out)
  return ((batches - 1) * size) / (ms / 1000)
}

async function throughput() {
  const size = 256
  const commands = values.quick ? 100_000 : 400_000
  const dir = mkdtempSync(join(tmpdir(), 'cgw-bench-'))
  await sh(process.execPath, ['tests/data/generate.mjs', '--lines', '512', '--wait', '0', '--out', dir])
  // Repeat the 512 known commands to the wanted length; the map stays small.
  const base = readFileSync(join(dir, 'client_data.txt'), 'utf8')
  writeFileSync(join(dir, 'many.txt'), base.repeat(Math.ceil(commands / 512)))
  const raw = await rawOneHop(size, Math.floor(commands / size))
  const server = await startServer([join(dir, 'server_data.txt'), 'tcp://127.0.0.1:*', 'x', String(Math.max(1, cpus().length))])
  await new Promise((r) => setTimeout(r, 500))
  const run = await sh(process.execPath, ['bin/run-client.js', join(dir, 'many.txt'), String(size), 'tcp://127.0.0.1:*', server.endpoint, '--json'])
  await server.stop()
  const summary = JSON.parse(run.out)
  if (summary.counts.ok !== summary.commands) throw new Error(`throughput run lost commands: ${run.out}`)
  const rate = summary.commands / (summary.elapsedMs / 1000)
  return {
    scenario: `throughput: ${summary.commands} zero-wait commands, batch ${size}`,
    value: `${Math.round(rate)} commands/s end to end`,
    baseline: `${Math.round(raw)} objects/s raw one-hop zeromq.js + msgpackr`,
    ratio: rate / raw,
    raw: { rate, rawOneHop: raw, summary },
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0)
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

function children(pid) {
  return readdirSync('/proc').filter((e) => /^[0-9]+$/.test(e)).map(Number).filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid
    } catch {
      return false
    }
  })
}

async function stopOnce(how) {
  const child = spawn(process.execPath, ['bin/run-server.js', 'tests/data/server_data.txt', 'tcp://127.0.0.1:*', 'x', '32', '--capacity', '4'], {
    cwd: root, stdio: ['ignore', 'pipe', 'ignore'], detached: true,
  })
  let out = ''
  await new Promise((resolve) => child.stdout.on('data', (d) => { out += d; if (out.includes('listening')) resolve() }))
  const endpoint = /listening (\S+)/.exec(out)[1]
  const client = spawn(process.execPath, ['bin/run-client.js', 'tests/data/client_data.txt', '4', 'tcp://127.0.0.1:*', endpoint, '--send-retries', '0', '--retry-delay', '200', '--result-timeout', '3000', '--max-resends', '0'], { cwd: root, stdio: 'ignore' })
  // Load: wait until the pool has grown past one busy worker.
  const deadline = Date.now() + 5000
  while (children(child.pid).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  await new Promise((r) => setTimeout(r, 300))
  const pids = [child.pid, ...children(child.pid)]
  const started = performance.now()
  if (how === 'Ctrl+C to the group') process.kill(-child.pid, 'SIGINT')
  else process.kill(child.pid, how)
  while (pids.some(alive) && performance.now() - started < 15_000) await new Promise((r) => setTimeout(r, 5))
  const ms = performance.now() - started
  const left = pids.filter(alive)
  for (const pid of left) process.kill(pid, 'SIGKILL')
  client.kill('SIGKILL')
  return { ms, processes: pids.length, left: left.length }
}

async function stop() {
  const rows = []
  for (const how of ['Ctrl+C to the group', 'SIGTERM', 'SIGKILL']) {
    const times = []
    let processes = 0
    let left = 0
    for (let i = 0; i < (values.quick ? 2 : 5); i++) {
      const r = await stopOnce(how)
      times.push(r.ms)
      processes = Math.max(processes, r.processes)
      left += r.left
    }
    rows.push({
      scenario: `stop under load: ${how} (${processes} processes)`,
      value: `${(median(times) / 1000).toFixed(3)} s to zero processes (max ${(Math.max(...times) / 1000).toFixed(3)}); ${left} left behind`,
      baseline: '1.000 s: the running commands\' wait',
      ratio: median(times) / 1000,
      raw: { times, left },
    })
  }
  return rows
}

const results = []
if (only.has('seed')) results.push(await seed())
if (only.has('throughput')) results.push(await throughput())
if (only.has('stop')) results.push(...(await stop()))

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`
console.log(`machine: ${machine}`)
console.log('| scenario | measured | baseline (same run) | ratio |')
console.log('|---|---|---|---|')
for (const r of results) console.log(`| ${r.scenario} | ${r.value} | ${r.baseline} | ${r.ratio.toFixed(3)} |`)
mkdirSync(join(root, 'bench', 'results'), { recursive: true })
writeFileSync(join(root, 'bench', 'results', 'latest.json'), JSON.stringify({ machine, date: new Date().toISOString(), results }, null, 2))
console.log('raw results: bench/results/latest.json')
