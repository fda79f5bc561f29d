/**
 * A worker's optional `/metrics` (its `http` option): the metrics, and the
 * HTTP listener that serves them, bound once and closed with the worker.
 */
import { HttpEndpoint } from '../http/http-endpoint.js'
import type { Logger } from '../log.js'
import { WorkerMetrics, type WorkerSource } from '../metrics/worker-metrics.js'
import type { HttpListen } from '../options/kinds.js'

export class MetricsListener {
  /** A batch ran this many milliseconds (from taken to settled): the metrics' own observer, no wrapper. */
  readonly batchDuration: (ms: number) => void
  private readonly endpoint: HttpEndpoint
  private listening: Promise<string> | undefined

  constructor(listen: HttpListen, source: WorkerSource, logger: Logger) {
    const metrics = new WorkerMetrics(source)
    this.batchDuration = metrics.batchDuration
    this.endpoint = new HttpEndpoint(listen, metrics.routes, logger)
  }

  /** Binds and resolves with the URL; a port in use rejects with a `ConfigError` (`ERR_ENDPOINT`). Later calls return the same promise. */
  listen(): Promise<string> {
    this.listening ??= this.endpoint.start()
    return this.listening
  }

  /** The URL once bound; undefined before. */
  get url(): string | undefined {
    try {
      return this.endpoint.url
    } catch {
      return undefined // not bound yet
    }
  }

  /** Stops the HTTP listener, if it was started (a bind that failed leaves nothing to close). */
  async close(): Promise<void> {
    const listening = this.listening
    if (listening === undefined) return
    try {
      await listening
      await this.endpoint.close()
    } catch {
      // Never bound, or already closed: nothing is listening.
    }
  }
}
