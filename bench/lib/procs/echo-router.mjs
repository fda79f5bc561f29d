// B2 echo server: ROUTER bound on a free loopback port, sends every message
// straight back to its sender. Runs until killed.
import { Router } from 'zeromq'

const router = new Router()
await router.bind('tcp://127.0.0.1:*')
console.log(`listening ${router.lastEndpoint}`)
for await (const frames of router) await router.send(frames)
