/**
 * The gateway's dashboard (`/`) and the status view as JSON (`/status.json`).
 */
import type { HttpRoutes } from '../http/http-endpoint.js'
import type { GatewaySource } from '../metrics/gateway-metrics.js'

export function dashboardRoutes(source: GatewaySource): HttpRoutes {
  return {
    '/status.json': () => ({ contentType: 'application/json; charset=utf-8', body: `${JSON.stringify(source.status(), null, 2)}\n` }),
  }
}
