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
import { commandsBody, doneFrame, readyFrame, taskFrame } from '../protocol/frames.js'
import type { WorkerToGatewayHeader } from '../protocol/types.js'
import { validateWorkerHeader } from '../protocol/validate.js'
import { asReceived, doneReports } from '../protocol/warm-up.js'
import { GatewayCore, type GatewayCoreOptions } from './gateway-core.js'
import type { QueuedBatch } from './ledger.js'
import { decodeIntake } from './intake.js'
import type { GatewayEffects, LineLog } from './ports.js'
import type { WorkerSession } from './worker-session.js'

/** Client ids as long as real ones (36-byte UUIDs). */
const CLIENTS = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003']

/**
 * A worker's header through the real decoder, from a real frame: the core's
 * readers were otherwise trained on object literals, whose hidden classes a
 * received header never has, and deoptimised by the first real batch ("wrong
 * map"), as they were by the first `done` with counts when the warm-up sent none.
 */
function fromWorker(frame: Buffer): WorkerToGatewayHeader {
  const validated = validateWorkerHeader(asReceived(frame))
  if (!validated.ok) throw new Error(`warm-up frame refused: ${validated.reason}`)
  return validated.header
}

const quiet: LineLog = { warn: () => undefined, info: () => undefined }

/** What a warm-up got through: batches completed, and commands counted ok from the `done` counts. */
export interface WarmUpCount {
  readonly completed: number
  readonly ok: number
}

/** Admits `batches` batches, hands them to two fake workers and completes them, in rounds as a real run does. */
export function warmUpCore(options: GatewayCoreOptions, batches = 1000): WarmUpCount {
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
  for (const w of workers) core.workerMessage(w.key, w.identity, fromWorker(readyFrame(w.id, capacity)))
  // Shaped as the intake receives bodies (see asReceived); one in 50 as long as a batch of 16 or more.
  const bodies = [1, 16].map((n) => asReceived(commandsBody(Array.from({ length: n }, () => ['127.0.0.1', 'warm-up'] as const))))
  for (let sent = 0; sent < batches; ) {
    // A burst larger than the workers' credit, so the queue fills and drains as in a run.
    for (let i = 0; i < 3 * capacity && sent < batches; i++, sent++) {
      const task = asReceived(taskFrame(String(sent + 1), CLIENTS[sent % CLIENTS.length]!, 'tcp://127.0.0.1:65535', 1))
      core.intake(decodeIntake([task, bodies[sent % 50 === 0 ? 1 : 0]!]))
    }
    while (handed.length > 0) {
      const { worker, batch } = handed.shift()!
      now += 1
      // One in 8 without a report, one in 8 with check states, the rest with counts.
      const [none, counted, checked] = doneReports(batch.commands)
      const report = handed.length % 8 === 0 ? none : handed.length % 8 === 1 ? checked : counted
      core.workerMessage(worker.key, worker.identity, fromWorker(doneFrame(batch.id, batch.client, report)))
    }
    core.tick()
  }
  return { completed: core.stats.completed, ok: core.stats.commands.ok }
}
