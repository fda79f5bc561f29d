/**
 * A worker's Prometheus metrics (`run-worker --http`, docs/OPERATIONS.md
 * "Metrics"): its counters, read when scraped, and the run time of its
 * batches, observed once per batch. The names it shares with the gateway
 * (`cgw_commands_total`, `cgw_check_states_total`, `cgw_batch_duration_seconds`)
 * mean the same, counted where the commands ran: the worker counts every
 * batch it ran, re-runs included; the gateway counts each completed batch once.
 */
import type { Registry } from 'prom-client'
import type { HttpRoutes } from '../http/http-endpoint.js'
import { OUTCOMES, STATES, metricsReply, newRegistry, readCounter, readGauge, readLabeledCounter, secondsHistogram } from './prom.js'

/** What the worker's metrics read: its stats and what it holds. */
export interface WorkerSource {
  readonly stats: {
    readonly batches: number
    readonly outcomes: Readonly<Record<(typeof OUTCOMES)[number], number>>
    readonly states: Readonly<Record<(typeof STATES)[number], number>>
    readonly resultsDropped: number
    readonly malformed: number
    readonly reconnects: number
  }
  /** Batches held now. */
  readonly holding: number
}

export class WorkerMetrics {
  readonly registry: Registry
  /** A batch ran this many milliseconds (from taken to settled). */
  readonly batchDuration: (ms: number) => void
  /** `/metrics`. */
  readonly routes: HttpRoutes

  constructor(source: WorkerSource) {
    const registry = (this.registry = newRegistry())
    const stats = (): WorkerSource['stats'] => source.stats
    readCounter(registry, 'cgw_worker_batches_total', 'Batches this worker took from its gateway (a malformed body is counted in cgw_worker_malformed_messages_total instead).', () => stats().batches)
    readLabeledCounter(registry, 'cgw_commands_total', 'Commands this worker ran, by outcome.', 'outcome', OUTCOMES, () => stats().outcomes)
    readLabeledCounter(registry, 'cgw_check_states_total', 'Check results (code 0 with a state) this worker produced, by state.', 'state', STATES, () => stats().states)
    readCounter(registry, 'cgw_worker_results_dropped_total', 'Results a client did not accept (gone, or not reachable); its resend recovers them.', () => stats().resultsDropped)
    readCounter(registry, 'cgw_worker_malformed_messages_total', 'Messages from the gateway, and task bodies, dropped as malformed.', () => stats().malformed)
    readCounter(registry, 'cgw_worker_reconnects_total', 'Reconnects after the gateway fell silent.', () => stats().reconnects)
    readGauge(registry, 'cgw_worker_in_flight_batches', 'Batches held now: running, or waiting for their result to be handed on.', () => source.holding)
    this.batchDuration = secondsHistogram(registry, 'cgw_batch_duration_seconds', 'How long batches ran on this worker, from taken to their last command settled.')
    this.routes = { '/metrics': () => metricsReply(registry) }
  }
}
