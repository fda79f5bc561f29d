/**
 * What a forked worker receives from its gateway: the gateway options whose
 * schema entry says `forked`, picked from the resolved options, so a new
 * worker setting reaches forked workers by one flag in the schema.
 */
import type { ExecutorSpec } from '../executors/types.js'
import type { DefaultsOf, ValueOf } from './types.js'
import { gatewaySchema } from './gateway.js'

type ForkedKey = { [K in keyof typeof gatewaySchema]: (typeof gatewaySchema)[K] extends { readonly forked: true } ? K : never }[keyof typeof gatewaySchema]

/** Forked options without a default: present only when the gateway has them (`curveSecret`). */
type OptionalForkedKey = Exclude<ForkedKey, keyof DefaultsOf<typeof gatewaySchema> | 'executor'>

/**
 * The forked worker's share of the gateway's options: `executor`, `capacity`,
 * `concurrency`, `commandTimeoutMs`, `heartbeatIntervalMs`, `heartbeatLiveness`,
 * `maxBatch`, `maxMessageBytes`, and `curveSecret` when CURVE is on (whatever
 * the schema marks `forked`). The caller adds what is per worker or per
 * process: gateway endpoint, id, log level, pid.
 *
 * `curveSecret` is the PATH of the gateway's NAME.key_secret, never the key:
 * the config travels in the worker's environment. A forked worker presents
 * that key pair on the worker port (whose ZAP handler always allows the
 * gateway's own key) and to clients, and, having no `serverKey`, takes the
 * certificate's public key as the worker port's server key.
 */
export type ForkedWorkerOptions = Pick<GatewaySettings, Exclude<ForkedKey, 'executor' | OptionalForkedKey>> & {
  readonly [K in OptionalForkedKey]?: ValueOf<(typeof gatewaySchema)[K]>
} & { readonly executor: ExecutorSpec }

/** The gateway's settings with their defaults filled in, as the schema declares them (ResolvedGatewayOptions is one). */
type GatewaySettings = DefaultsOf<typeof gatewaySchema> & { readonly [K in OptionalForkedKey]?: ValueOf<(typeof gatewaySchema)[K]> }

/** The keys the schema marks `forked`, in schema order. */
export const forkedKeys: readonly ForkedKey[] = Object.entries(gatewaySchema)
  .filter(([, spec]) => 'forked' in spec && spec.forked === true)
  .map(([key]) => key as ForkedKey)

/**
 * Picks what a forked worker receives from the gateway's resolved options.
 * Throws if there is no executor: resolveGatewayOptions requires one whenever
 * the gateway forks (maxWorkers > 0), so this is a caller's mistake.
 *
 * @example
 * const config: ForkedWorkerConfig = { ...forkedWorkerOptions(o), gateway, id, logLevel, gatewayPid: process.pid }
 */
export function forkedWorkerOptions(resolved: GatewaySettings & { readonly executor?: ExecutorSpec }): ForkedWorkerOptions {
  if (resolved.executor === undefined) throw new Error('forked workers need an executor (resolveGatewayOptions requires one when maxWorkers > 0)')
  const picked: Record<string, unknown> = {}
  for (const key of forkedKeys) picked[key] = resolved[key]
  return picked as ForkedWorkerOptions
}
