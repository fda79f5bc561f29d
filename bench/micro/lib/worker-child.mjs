// The worker side of bench/micro/worker-cpu.mjs, in its own process so that
// its CPU time is its own: ROOT's Worker (ROOT/dist, built) with the
// device-map executor on MAP, joining GATEWAY. It warms up as a forked
// worker does, then answers 'cpu' with the CPU it used since it started
// serving, and closes on 'stop'.
//
//   node worker-child.mjs ROOT GATEWAY MAP   (forked, with an IPC channel)
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'

const [root, gateway, mapFile] = process.argv.slice(2)
const load = (path) => import(pathToFileURL(join(root, 'dist', path)).href)
const { Worker } = await load('worker/worker.js')
const { loadDeviceMap } = await load('data/device-map.js')
// The executor moved from worker/executor.js to executors/device-map.js; older builds have the former.
const { deviceMapExecutor } = await load('executors/device-map.js').catch(() => load('worker/executor.js'))

const worker = new Worker({ gateway, executor: deviceMapExecutor(await loadDeviceMap(mapFile)), id: 'bench-worker' })
await worker.warmUp()
const started = process.cpuUsage()
worker.start()
process.on('message', (message) => {
  if (message === 'cpu') {
    const used = process.cpuUsage(started)
    process.send({ userMs: used.user / 1000, sysMs: used.system / 1000 })
  } else if (message === 'stop') {
    void worker.close({ force: true }).then(() => process.exit(0))
  }
})
process.send('serving')
