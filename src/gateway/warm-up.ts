/**
 * Runs the gateway's state machine through a thousand batches at start,
 * on a throwaway core with no-op effects and a fake clock. V8 compiles and
 * optimises per function, not per instance, so the real core then starts on
 * optimised code: the first client after a start (the P7 bench's case: one
 * 200 000-command run per fresh gateway) otherwise paid for the cold dispatch
 * path (measured: 10–12 % of its throughput). A thousand batches suffice; more
 * only grew the heap (4000 raised the P5b gateway RSS by ~12 MB). Pure, like the core it drives.
 */
import { silentLogger } from '../log.js'
import { commandsBody } from '../protocol/frames.js'
import { asReceived } from '../protocol/warm-up.js'
import type { TaskHeader } from '../protocol/types.js'
import { GatewayCore, type GatewayCoreOptions } from './gateway-core.js'
import type { QueuedBatch } from './ledger.js'
import type { GatewayEffects, LineLog } from './ports.js'
import type { WorkerSession } from './worker-session.js'

const quiet: LineLog = { warn: () => undefined, info: () => undefined }

/** Admits `batches` batches, hands them to two fake workers and completes them, in rounds as a real run does; returns how many completed. */
export function warmUpCore(options: GatewayCoreOptions, batches = 1000): number {
  let now = 0
  const handed: { worker: WorkerSession; batch: QueuedBatch }[] = []
  const effects: GatewayEffects = {
    toWorker: (worker, message) => {
      if (message.type === 'task') handed.push({ worker, batch: message.batch })
    },
    stopPeer: () => undefined,
    reject: () => undefined,
    emit: () => undefined,
  }
  const logger = silentLogger()
  const core = new GatewayCore(
    { ...options, minWorkers: 0, maxWorkers: 0 },
    effects,
    { logger, malformed: quiet, worker: quiet, refused: quiet, abort: quiet },
    () => now,
  )
  const capacity = Math.min(64, options.maxWorkerCapacity)
  const workers = ['warm-up-a', 'warm-up-b'].map((id) => ({ key: id, identity: asReceived(Buffer.from(id)), id }))
  for (const w of workers) core.workerMessage(w.key, w.identity, { v: 1, type: 'ready', worker: w.id, capacity })
  // Shaped as the intake receives bodies (see asReceived); one in 50 as long as a batch of 16 or more.
  const bodies = [1, 16].map((n) => asReceived(commandsBody(Array.from({ length: n }, () => ['127.0.0.1', 'warm-up'] as const))))
  for (let sent = 0; sent < batches; ) {
    // A burst larger than the workers' credit, so the queue fills and drains as in a run.
    for (let i = 0; i < 3 * capacity && sent < batches; i++, sent++) {
      const header: TaskHeader = { v: 1, type: 'task', id: String(sent + 1), client: `warm-up-${sent % 3}`, replyTo: 'tcp://127.0.0.1:1', attempt: 1 }
      core.intake({ type: 'task', header, body: bodies[sent % 50 === 0 ? 1 : 0]! })
    }
    while (handed.length > 0) {
      const { worker, batch } = handed.shift()!
      now += 1
      core.workerMessage(worker.key, worker.identity, { v: 1, type: 'done', id: batch.id, client: batch.client })
    }
    core.tick()
  }
  return core.stats.completed
}
