/**
 * The option schemas: one entry per option of each role, matching the
 * documented interfaces key for key, with the defaults the library exports
 * derived from them, and the forked-worker share picked by their `forked` flag.
 */
import { availableParallelism } from 'node:os'
import { describe, expect, it } from 'vitest'
import type { ClientOptions } from '../../src/client/options.js'
import { clientDefaults } from '../../src/client/options.js'
import { gatewayDefaults, resolveGatewayOptions, type GatewayOptions } from '../../src/gateway/options.js'
import { clientSchema } from '../../src/options/client.js'
import { forkedKeys, forkedWorkerOptions, type ForkedWorkerOptions } from '../../src/options/forked.js'
import { gatewaySchema } from '../../src/options/gateway.js'
import { cliSchemas } from '../../src/options/roles.js'
import { workerSettings } from '../../src/options/shared.js'
import { envName, type LibraryKeys, type Schema } from '../../src/options/types.js'
import { workerSchema } from '../../src/options/worker.js'
import type { ForkedWorkerConfig } from '../../src/worker/main.js'
import { workerDefaults, type WorkerOptions } from '../../src/worker/options.js'

/** True only when A and B are the same type; a mismatch fails `tsc -p tests` (part of npm test). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false

describe('each schema has exactly the keys of its role\'s options interface', () => {
  it('GatewayOptions, ClientOptions and WorkerOptions (checked by the type checker)', () => {
    const gateway: Equal<LibraryKeys<typeof gatewaySchema>, keyof GatewayOptions> = true
    const client: Equal<LibraryKeys<typeof clientSchema>, keyof ClientOptions> = true
    const worker: Equal<LibraryKeys<typeof workerSchema>, keyof WorkerOptions> = true
    expect([gateway, client, worker]).toEqual([true, true, true])
  })

  it('the forked share is part of what a forked worker is configured with', () => {
    const fits: Equal<Exclude<keyof ForkedWorkerOptions, keyof ForkedWorkerConfig>, never> = true
    expect(fits).toBe(true)
  })
})

describe('defaults come from the schemas', () => {
  it('gatewayDefaults', () => {
    expect(gatewayDefaults).toEqual({
      bind: 'tcp://127.0.0.1:5557',
      maxWorkers: availableParallelism(),
      minWorkers: 1,
      idleTimeoutMs: 60_000,
      capacity: 64,
      concurrency: 1024,
      commandTimeoutMs: 0,
      queueLimit: 1000,
      queueBytes: 256 * 1024 * 1024,
      maxConnectedWorkers: 4096,
      maxWorkerCapacity: 64,
      holdTimeoutMs: 600_000,
      intakeHighWaterMark: 32,
      maxBatch: 10_000,
      maxAttempts: 3,
      graceMs: 10_000,
      heartbeatIntervalMs: 1000,
      heartbeatLiveness: 3,
      maxMessageBytes: 16 * 1024 * 1024,
    })
  })

  it('clientDefaults', () => {
    expect(clientDefaults).toEqual({
      servers: ['tcp://127.0.0.1:5557'],
      bind: 'tcp://127.0.0.1:5556',
      batchSize: 16,
      window: 256,
      sendRetries: 10,
      retryDelayMs: 1000,
      resultTimeoutMs: 30_000,
      maxResends: 3,
      abortGraceMs: 2000,
      maxMessageBytes: 16 * 1024 * 1024,
      strict: false,
      failOn: ['lost', 'unknown', 'failed', 'timeout'],
    })
  })

  it('workerDefaults', () => {
    expect(workerDefaults).toEqual({
      capacity: 64,
      concurrency: 1024,
      commandTimeoutMs: 0,
      heartbeatIntervalMs: 1000,
      heartbeatLiveness: 3,
      reconnectMaxMs: 32_000,
      maxBatch: 10_000,
      maxMessageBytes: 16 * 1024 * 1024,
    })
  })

  it('a setting the gateway and the worker share is one declaration: same flag, same kind, same default', () => {
    for (const key of Object.keys(workerSettings) as (keyof typeof workerSettings)[]) {
      expect(gatewaySchema[key]).toBe(workerSettings[key])
      expect(workerSchema[key]).toBe(workerSettings[key])
    }
  })
})

describe.each(Object.entries(cliSchemas) as [string, Schema][])('the %s schema', (_, schema) => {
  const flagged = Object.values(schema).filter((spec) => spec.flag !== undefined)

  it('spells every long flag, short flag and variable once', () => {
    const longs = flagged.map((spec) => spec.flag!)
    const shorts = flagged.flatMap((spec) => (spec.short === undefined ? [] : [spec.short]))
    expect(new Set(longs).size).toBe(longs.length)
    expect(new Set(shorts).size).toBe(shorts.length)
    expect(new Set(longs.map(envName)).size).toBe(longs.length)
    expect(longs.every((flag) => /^[a-z][a-z0-9-]*$/.test(flag))).toBe(true)
    // -V and -h are commander's.
    expect(shorts.filter((s) => s === 'V' || s === 'h')).toEqual([])
  })

  it('gives every option a help text, and every default passes its own check', () => {
    for (const spec of Object.values(schema)) {
      expect(spec.help.length).toBeGreaterThan(0)
      if (spec.default !== undefined) expect(spec.kind.fromValue(spec.default)).toEqual(spec.default)
    }
  })

  it('names no variable the project already uses for something else', () => {
    const names = flagged.map((spec) => envName(spec.flag!))
    for (const reserved of ['CGW_WORKER_CONFIG', 'CGW_CRASH_DIR', 'CGW_WORKER_NODE_FLAGS']) expect(names).not.toContain(reserved)
  })
})

describe('forkedWorkerOptions', () => {
  it('picks the options the schema marks forked, with the resolved executor', () => {
    const resolved = resolveGatewayOptions({ mapFile: 'devices.txt', concurrency: 7, heartbeatLiveness: 9, capacity: 5, queueLimit: 11 })
    expect(forkedWorkerOptions(resolved)).toEqual({
      executor: { module: 'device-map', options: { file: 'devices.txt' } },
      capacity: 5,
      concurrency: 7,
      commandTimeoutMs: 0,
      heartbeatIntervalMs: 1000,
      heartbeatLiveness: 9,
      maxBatch: 10_000,
      maxMessageBytes: 16 * 1024 * 1024,
    })
    expect([...forkedKeys].sort()).toEqual(Object.keys(forkedWorkerOptions(resolved)).sort())
  })

  it('refuses options without an executor (a gateway that forks none)', () => {
    expect(() => forkedWorkerOptions(resolveGatewayOptions({ maxWorkers: 0 }))).toThrow(/executor/)
  })
})
