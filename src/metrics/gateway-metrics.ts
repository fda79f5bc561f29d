/**
 * The gateway's Prometheus metrics, served as `/metrics` by its HTTP
 * listener (docs/OPERATIONS.md, "Metrics", lists them). Counters are the
 * gateway's own stats, read when Prometheus scrapes; gauges come from one
 * status view per scrape; the two histograms are fed by the core's observer,
 * once per batch. Labels are bounded sets (reason, outcome, state, socket,
 * worker kind and state), never a device address or a client id.
 */
import type { Registry } from 'prom-client'
import type { HttpRoutes } from '../http/http-endpoint.js'
import type { GatewayObserver, GatewayStats } from '../gateway/events.js'
import type { GatewayStatus } from '../gateway/status.js'
import type { RejectReason } from '../protocol/types.js'
import { OUTCOMES, STATES, metricsReply, newRegistry, readCounter, readGauge, readLabeledCounter, readLabeledGauge, secondsHistogram } from './prom.js'

/** What the gateway's HTTP routes read: its counters and its status view. */
export interface GatewaySource {
  readonly stats: GatewayStats
  status(): GatewayStatus
}

const REJECT_REASONS: readonly RejectReason[] = ['malformed', 'too-large', 'queue-full', 'shutting-down', 'attempts-exhausted', 'not-allowed']

/**
 * One gateway's registry. Made before the gateway's core, whose observer it
 * is; it reads the source only when scraped.
 *
 * @example
 * const metrics = new GatewayMetrics(gateway)
 * new HttpEndpoint(listen, metrics.routes, logger)
 */
export class GatewayMetrics {
  readonly registry: Registry
  /** For the core's effects: the two histograms. */
  readonly observer: GatewayObserver
  /** `/metrics`. */
  readonly routes: HttpRoutes
  /** The status view of the scrape under way: one per scrape, however many gauges read it. */
  private view: GatewayStatus | undefined

  constructor(private readonly source: GatewaySource) {
    const registry = (this.registry = newRegistry())
    const stats = (): GatewayStats => source.stats
    const count = (name: string, help: string, read: (s: GatewayStats) => number): void => readCounter(registry, name, help, () => read(stats()))

    count('cgw_batches_received_total', 'Tasks (batches) the intake read with a valid header, whatever became of them.', (s) => s.batchesReceived)
    count('cgw_commands_received_total', 'Commands of the batches taken in; a resend of a batch still inside is not counted again.', (s) => s.commandsReceived)
    readLabeledCounter(registry, 'cgw_batches_rejected_total', 'Batches rejected, by reason (not-allowed ones are dropped unanswered).', 'reason', REJECT_REASONS, () => stats().rejected)
    count('cgw_batches_dispatched_total', 'Batches handed to a worker (a re-run counts again).', (s) => s.dispatched)
    count('cgw_batches_done_total', 'Batches completed: the first done of each; a second run finishing later is not counted.', (s) => s.completed)
    count('cgw_batches_requeued_total', 'Batches put back at the front of the queue because their worker was lost or reconnected.', (s) => s.requeued)
    count('cgw_batches_duplicate_total', 'Resends of a batch already queued or running enough times: ignored.', (s) => s.duplicates)
    count('cgw_batches_second_runs_total', 'Resends of a batch a worker still held, run again beside it on another worker.', (s) => s.speculative)
    count('cgw_batches_aborted_total', "Batches dropped by their client's abort before any worker ran them.", (s) => s.aborted)
    readLabeledCounter(
      registry,
      'cgw_commands_total',
      "Commands of completed batches by outcome, as their workers' done counted them. A worker that sends no counts (they are optional in CGP/1) has its batches in cgw_batches_done_total only.",
      'outcome',
      OUTCOMES,
      () => stats().commands,
    )
    readLabeledCounter(
      registry,
      'cgw_check_states_total',
      "Check results (code 0 with a state) of completed batches by state, from the workers' done (this product's states extension; other workers send none).",
      'state',
      STATES,
      () => stats().states,
    )
    readLabeledCounter(registry, 'cgw_malformed_messages_total', 'Messages dropped as malformed (or answered rejected malformed), by the socket they came on.', 'socket', ['intake', 'workers'], () => stats().malformedFrom)
    readLabeledCounter(registry, 'cgw_refused_connections_total', 'Connections refused by CURVE (a key not allowed, plaintext, a wrong server key), by port; 0 without CURVE.', 'port', ['intake', 'workers', 'status'], () => stats().refused)
    count('cgw_aborts_total', 'abort messages read from clients.', (s) => s.aborts)
    count('cgw_cancels_sent_total', "cancel messages sent to workers on clients' aborts (one per worker holding a batch of that client).", (s) => s.cancelsSent)
    count('cgw_rejections_undelivered_total', "Rejections that could not be handed to their client's socket.", (s) => s.undelivered)
    count('cgw_workers_forked_total', 'Worker processes forked.', (s) => s.workersSpawned)
    count('cgw_workers_lost_total', 'Workers lost (silent, exited, unreachable, or holding a batch too long); what they held was requeued.', (s) => s.workersLost)
    count('cgw_workers_refused_total', 'ready messages refused (a worker id in use, or too many workers).', (s) => s.workersRefused)

    const view = (): GatewayStatus => this.view ?? source.status()
    readGauge(registry, 'cgw_queue_batches', 'Batches waiting for a worker.', () => view().queue.batches)
    readGauge(registry, 'cgw_queue_bytes', 'Body bytes of the batches waiting for a worker.', () => view().queue.bytes)
    readGauge(registry, 'cgw_queue_held_bytes', 'Body bytes of the batches workers hold; they count against --queue-bytes too.', () => view().queue.heldBytes)
    readGauge(registry, 'cgw_queue_clients', 'Clients with batches waiting.', () => view().queue.clientCount)
    readGauge(registry, 'cgw_batches_in_flight', 'Batches held by workers now.', () => view().workers.reduce((sum, w) => sum + w.inFlight, 0))
    readLabeledGauge(
      registry,
      'cgw_workers',
      'Workers by kind (forked, remote) and state: idle (holds nothing), busy (holds batches), and, for forked ones, starting (forked, not yet ready) and retiring (sent the poison pill for idleness).',
      ['kind', 'state'],
      () => workerSeries(view()),
    )
    readLabeledGauge(registry, 'cgw_worker_capacity_batches', 'Batches the connected workers may hold at once, by kind: with cgw_batches_in_flight, how busy the workers are.', ['kind'], () => {
      const capacity = { forked: 0, remote: 0 }
      for (const w of view().workers) capacity[w.kind] += w.capacity
      return [
        [{ kind: 'forked' }, capacity.forked],
        [{ kind: 'remote' }, capacity.remote],
      ]
    })

    this.observer = {
      queueWait: secondsHistogram(registry, 'cgw_queue_wait_seconds', 'How long batches waited in the queue, from being taken in (or requeued) to going to a worker; once per dispatch.'),
      batchDuration: secondsHistogram(
        registry,
        'cgw_batch_duration_seconds',
        "How long completed batches ran: the worker's ms from its done, else the time from dispatch to done.",
      ),
    }
    this.routes = { '/metrics': () => this.scrape() }
  }

  /** The registry in Prometheus' text format, from one status view. */
  private async scrape(): ReturnType<typeof metricsReply> {
    this.view = this.source.status()
    // Every collect() runs before metrics() first awaits, so the view can go at once.
    try {
      return metricsReply(this.registry)
    } finally {
      this.view = undefined
    }
  }
}

function workerSeries(status: GatewayStatus): [Record<string, string>, number][] {
  const n = { forked: { idle: 0, busy: 0 }, remote: { idle: 0, busy: 0 } }
  for (const w of status.workers) n[w.kind][w.inFlight === 0 ? 'idle' : 'busy']++
  return [
    [{ kind: 'forked', state: 'idle' }, n.forked.idle],
    [{ kind: 'forked', state: 'busy' }, n.forked.busy],
    [{ kind: 'forked', state: 'starting' }, status.pool.starting],
    [{ kind: 'forked', state: 'retiring' }, status.pool.retiring],
    [{ kind: 'remote', state: 'idle' }, n.remote.idle],
    [{ kind: 'remote', state: 'busy' }, n.remote.busy],
  ]
}
