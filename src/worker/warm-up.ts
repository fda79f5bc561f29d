/**
 * Runs the worker's batch path at start on a throwaway runner: decode a task
 * body, run its commands through the fair slots, encode the result body. The
 * executor is a no-op, never the user's: warm-up must not send a device
 * anything. V8 optimises per function, so the real runner then starts on
 * optimised code (the P7 bench measures the first run after a start).
 */
import { commandsBody, outcomesBody } from '../protocol/frames.js'
import type { TaskHeader } from '../protocol/types.js'
import { BatchRunner, type HeldBatch } from './batch-runner.js'

const PAIRS: [string, string][] = Array.from({ length: 256 }, (_, i) => [`127.0.0.${i & 255}`, 'warm-up'])

/** Runs `batches` batches of 256 commands; resolves with how many settled. */
export async function warmUpRunner(concurrency: number, batches = 50): Promise<number> {
  let settled = 0
  let done!: () => void
  const finished = new Promise<void>((resolve) => (done = resolve))
  const runner = new BatchRunner({
    executor: () => Promise.resolve(1),
    concurrency,
    commandTimeoutMs: 0,
    maxBatch: PAIRS.length,
    onSettled: (batch: HeldBatch) => {
      outcomesBody(batch.outcomes)
      if (++settled === batches) done()
    },
  })
  const body = commandsBody(PAIRS)
  for (let i = 0; i < batches; i++) {
    const header: TaskHeader = { v: 1, type: 'task', id: String(i + 1), client: `warm-up-${i % 3}`, replyTo: 'tcp://127.0.0.1:1', attempt: 1 }
    const batch = runner.decode(header, body, 0)
    if (typeof batch === 'string') throw new Error(`worker warm-up: ${batch}`)
    runner.start(batch)
  }
  await finished
  return settled
}
