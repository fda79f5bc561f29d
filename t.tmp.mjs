import { Client, Gateway } from './dist/index.js'
const gw = new Gateway({ bind: 'tcp://127.0.0.1:*', mapFile: 'tests/data/server_data.txt', maxWorkers: 32 })
await gw.start()
await new Promise(r => gw.once('worker:ready', r))
for (let k = 0; k < 3; k++) {
const t0 = performance.now()
const c = new Client({ bind: 'tcp://127.0.0.1:*', servers: [gw.endpoint] })
const recs = []
c.on('records', () => recs.push(performance.now() - t0))
const s = await c.run('tests/data/client_data.txt')
console.log('client recs', recs[0].toFixed(1), recs.at(-1).toFixed(1), 'elapsed', s.elapsedMs.toFixed(1))
}
await gw.close()
