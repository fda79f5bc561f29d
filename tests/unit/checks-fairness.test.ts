/**
 * The worker's fair slots and the checks executor's per-address queues
 * together. A command waiting for its address's turn (`per_target`, `rate`)
 * once held one of the worker's `concurrency` slots while it waited: one
 * client's commands against one rate-limited address could hold every slot,
 * and another client's commands against other addresses waited behind them,
 * for as long as the rate says (a minute per command at "1/m").
 *
 * Fixed by the executor's slot seam (`usesSlots`, CommandControl): a command
 * that has to wait for its address's turn gives its slot back meanwhile, and
 * queues for one again in the fair order when its turn comes.
 */
import { afterEach, expect, it } from 'vitest'
import { createChecksExecutor } from '../../src/executors/checks/compose.js'
import { parseChecksText } from '../../src/executors/checks/file.js'
import type { CheckValue } from '../../src/executors/checks/types.js'
import type { Executor } from '../../src/executors/types.js'
import { encode } from '../../src/protocol/codec.js'
import type { TaskHeader } from '../../src/protocol/types.js'
import { BatchRunner } from '../../src/worker/batch-runner.js'

const FILE = ['targets = ["127.0.0.0/8"]', '[check.rare]', 'tcp = 1', 'per_target = 1', 'rate = "1/m"', '[check.quick]', 'tcp = 2']
const OK = async (): Promise<CheckValue> => ({ state: 0, output: 'fake', ms: 0 })

let executor: Executor
let runner: BatchRunner

afterEach(async () => {
  runner.cancel('A')
  runner.cancel('B')
  await executor.close?.()
})

const header = (id: string, client: string): TaskHeader => ({ v: 1, type: 'task', id, client, replyTo: 'tcp://127.0.0.1:1', attempt: 1 })

it("one client's commands waiting on a rate-limited address do not hold back another client's commands against other addresses", async () => {
  executor = createChecksExecutor(parseChecksText(FILE.join('\n'), '/tmp/fairness.toml'), { kinds: { exec: OK, tcp: OK, http: OK } })
  const settled = new Set<string>()
  runner = new BatchRunner({ executor, concurrency: 8, commandTimeoutMs: 0, maxBatch: 10_000, onSettled: (batch) => settled.add(batch.header.id) })
  const take = (id: string, client: string, pairs: [string, string][]): void => {
    const batch = runner.decode(header(id, client), encode(pairs), 1)
    if (typeof batch === 'string') throw new Error(batch)
    runner.start(batch)
  }
  take('a', 'A', Array.from({ length: 200 }, () => ['127.0.0.1', 'rare']))
  await new Promise((resolve) => setImmediate(resolve))
  for (let i = 0; i < 10; i++) take(`b${i}`, 'B', Array.from({ length: 10 }, (_, k) => [`127.0.1.${k + 1}`, 'quick']))
  // B's commands each answer at once; only a slot stands between them and their answer.
  const deadline = Date.now() + 2000
  while (settled.size < 10 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  expect(settled.size).toBe(10)
  // A's commands hold no slot while they wait for their address: one ran, 199 wait, none in the worker's queue.
  expect(runner.running).toBe(0)
  expect(runner.queued).toBe(0)
  expect(runner.unsettled).toBe(199)
  runner.cancel('A')
  expect(settled.has('a')).toBe(true)
  expect(runner.unsettled).toBe(0)
  await new Promise((resolve) => setImmediate(resolve))
  expect([runner.running, runner.queued]).toEqual([0, 0])
})
