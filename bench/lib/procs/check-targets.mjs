// The devices of X2 and X3, in a process of their own: TCP listeners that
// close every connection they accept, and an HTTP server answering GET /ok
// with 200 and anything else with 503. Loopback only.
//   node check-targets.mjs [TCP]  → prints `listening {"tcp":[PORT, …],"http":PORT}`
// TCP listeners (default 1): one per measured run, so that no run meets the
// TIME_WAIT entries an earlier one left on its port. A listener closes first,
// so each connection leaves one here for 60 s, keyed by the 4-tuple: 20 000
// of them on one port cover 70% of the client ports' tuples to it, and now
// and then a SYN that lands on one is dropped and sent again only 1 s later.
// Three rounds of 2 × 10 000 bare connects on one port: 1.7 s, 1.7 s, then
// 4.6 s with 128 listen drops and 128 SYN retransmits (nstat).
import { createServer as createHttp } from 'node:http'
import { createServer as createTcp } from 'node:net'

const count = Number(process.argv[2] ?? 1)
if (!Number.isInteger(count) || count < 1 || count > 64) throw new Error(`TCP listeners: 1 to 64, got ${process.argv[2]}`)
const listen = (server) => new Promise((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => resolve(server.address().port)))
const tcp = []
for (let i = 0; i < count; i++) {
  const server = createTcp((socket) => socket.destroy())
  server.maxConnections = 10_000
  tcp.push(await listen(server))
}
const http = createHttp({ keepAliveTimeout: 5000 }, (req, res) => {
  const ok = req.url === '/ok'
  res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain', 'content-length': ok ? 3 : 5 })
  res.end(ok ? 'ok\n' : 'fail\n')
})
console.log(`listening ${JSON.stringify({ tcp, http: await listen(http) })}`)
// Runs until killed by the bench (its process group).
