// The devices of X2 and X3, in a process of their own: a TCP listener that
// closes every connection it accepts, and an HTTP server answering
// GET /ok with 200 and anything else with 503. Loopback only.
//   node check-targets.mjs      → prints `listening {"tcp":PORT,"http":PORT}`
import { createServer as createHttp } from 'node:http'
import { createServer as createTcp } from 'node:net'

const tcp = createTcp((socket) => socket.destroy())
tcp.maxConnections = 10_000
const http = createHttp({ keepAliveTimeout: 5000 }, (req, res) => {
  const ok = req.url === '/ok'
  res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain', 'content-length': ok ? 3 : 5 })
  res.end(ok ? 'ok\n' : 'fail\n')
})
const listen = (server) => new Promise((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => resolve(server.address().port)))
const ports = { tcp: await listen(tcp), http: await listen(http) }
console.log(`listening ${JSON.stringify(ports)}`)
// Runs until killed by the bench (its process group).
