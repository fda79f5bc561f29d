/**
 * The gateway's dashboard (`/`, with `/dashboard.js` and `/dashboard.css`)
 * and the status view as JSON (`/status.json`, the object `gateway-status
 * --json` prints). The page and its assets are constants built once; only
 * `/status.json` does work per request.
 */
import type { HttpReply, HttpRoutes } from '../http/http-endpoint.js'
import type { GatewaySource } from '../metrics/gateway-metrics.js'
import { DASHBOARD_HTML } from './page.js'
import { DASHBOARD_JS } from './script.js'
import { DASHBOARD_CSS } from './styles.js'

/**
 * The page's Content-Security-Policy: its own script, style and
 * `status.json` only, nothing inline, no plugin, no framing, no form. Should
 * a network string ever reach the page as markup, it could run nothing.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

function asset(contentType: string, body: string, headers?: Readonly<Record<string, string>>): () => HttpReply {
  const reply: HttpReply = { contentType, body: Buffer.from(body), ...(headers === undefined ? {} : { headers }) }
  return () => reply
}

/**
 * @example
 * new HttpEndpoint({ host: '127.0.0.1', port: 9464 }, dashboardRoutes(gateway), logger)
 */
export function dashboardRoutes(source: GatewaySource): HttpRoutes {
  return {
    '/': asset('text/html; charset=utf-8', DASHBOARD_HTML, { 'content-security-policy': DASHBOARD_CSP }),
    '/dashboard.js': asset('text/javascript; charset=utf-8', DASHBOARD_JS),
    '/dashboard.css': asset('text/css; charset=utf-8', DASHBOARD_CSS),
    // Compact: the dashboard reads it every second. Same object as `gateway-status --json`.
    '/status.json': () => ({ contentType: 'application/json; charset=utf-8', body: `${JSON.stringify(source.status())}\n` }),
  }
}
