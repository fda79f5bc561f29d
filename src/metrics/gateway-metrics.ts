/**
 * The gateway's Prometheus metrics (`/metrics`). Placeholder until the
 * metrics land: it serves no route yet.
 */
import type { HttpRoutes } from '../http/http-endpoint.js'
import type { GatewayStats } from '../gateway/events.js'
import type { GatewayStatus } from '../gateway/status.js'

/** What the gateway's HTTP routes read: its counters and its status view. */
export interface GatewaySource {
  readonly stats: GatewayStats
  status(): GatewayStatus
}

export function gatewayMetricsRoutes(_source: GatewaySource): HttpRoutes {
  return {}
}
