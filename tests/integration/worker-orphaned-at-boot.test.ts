/**
 * A forked worker whose gateway is gone before it started (SIGKILLed while it
 * forked, the S3 bench's case) exits at once: it holds nothing, so it neither
 * boots on nor connects, where it used to connect to the dead endpoint and
 * live until its 500 ms linger. Real worker processes, a real ROUTER.
 */
import type { ChildProcess } from 'node:child_process'
import { Router } from 'zeromq'
import { afterEach, describe, expect, it } from 'vitest'
import { forkWorkerEntry, forkedWorkerConfig, logLines, type ForkedWorker } from '../helpers/forked-worker.js'
import { expectAllGone } from '../helpers/processes.js'

let children: ChildProcess[] = []
let routers: Router[] = []

afterEach(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  await expectAllGone(children.map((child) => child.pid!))
  for (const router of routers) router.close()
  children = []
  routers = []
})

/** Forks the worker entry as the gateway does, for a gateway at `endpoint` that this process plays. */
function forkWorker(endpoint: string): ForkedWorker {
  const worker = forkWorkerEntry(forkedWorkerConfig({ gateway: endpoint, id: 'orphan-w1', executor: { module: 'tests/fixtures/tagging-executor.mjs', options: { tag: 'orphan' } } }))
  children.push(worker.child)
  return worker
}

describe('a forked worker whose gateway is gone before it started', () => {
  it('exits 0 at once, with one line saying so, instead of booting on', async () => {
    const router = new Router({ linger: 0 })
    routers.push(router)
    await router.bind('tcp://127.0.0.1:*')
    const worker = forkWorker(router.lastEndpoint!)
    // The IPC channel closes before the worker has run a line: as a gateway SIGKILLed right after fork().
    worker.child.disconnect()

    expect(await worker.exit).toBe(0)
    expect(logLines(worker.stderr())).toEqual([expect.objectContaining({ level: 40, msg: 'gateway is gone before this worker started; exiting', why: 'IPC channel closed' })])
  })

  it('once started, still closes through the linger path, saying ready first', async () => {
    const router = new Router({ linger: 0 })
    routers.push(router)
    await router.bind('tcp://127.0.0.1:*')
    const worker = forkWorker(router.lastEndpoint!)
    const [, header] = await router.receive()
    expect(header!.includes(Buffer.from('ready'))).toBe(true)
    worker.child.disconnect()

    expect(await worker.exit).toBe(0)
    expect(logLines(worker.stderr())).toContainEqual(expect.objectContaining({ level: 40, msg: 'gateway is gone; exiting', why: 'IPC channel closed' }))
  })
})
