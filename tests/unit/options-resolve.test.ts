/**
 * Library option resolution from the schemas: a bad value is a ConfigError
 * whose message names the option, the expected range and the value; the
 * checks that span options keep their own messages.
 */
import { describe, expect, it } from 'vitest'
import { resolveClientOptions } from '../../src/client/options.js'
import { ConfigError } from '../../src/errors.js'
import { resolveGatewayOptions, type GatewayOptions } from '../../src/gateway/options.js'
import { resolveWorkerOptions, type WorkerOptions } from '../../src/worker/options.js'

const executor = async (): Promise<unknown> => 0

function failure(run: () => unknown): ConfigError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error('expected a ConfigError, got none')
}

describe('resolveGatewayOptions', () => {
  it.each<[string, GatewayOptions, string, string]>([
    ['maxWorkers above 4096', { maxWorkers: 5000 }, 'ERR_INVALID_OPTION', 'maxWorkers must be an integer from 0 to 4096, got 5000'],
    ['a fractional concurrency', { mapFile: 'm', concurrency: 1.5 }, 'ERR_INVALID_OPTION', 'concurrency must be an integer >= 1, got 1.5'],
    ['a heartbeat under 10 ms', { mapFile: 'm', heartbeatIntervalMs: 5 }, 'ERR_INVALID_OPTION', 'heartbeatIntervalMs must be an integer >= 10, got 5'],
    ['heartbeatLiveness 0', { mapFile: 'm', heartbeatLiveness: 0 }, 'ERR_INVALID_OPTION', 'heartbeatLiveness must be an integer from 1 to 1000, got 0'],
    ['a string where a number goes', { mapFile: 'm', queueLimit: '10' as unknown as number }, 'ERR_INVALID_OPTION', 'queueLimit must be an integer >= 1, got "10"'],
    ['an unbindable intake', { mapFile: 'm', bind: 'tcp://nowhere' }, 'ERR_ENDPOINT', 'bind must be a bindable endpoint (tcp://host:port, tcp://host:* or ipc://path), got "tcp://nowhere"'],
    ['an unbindable status endpoint', { mapFile: 'm', statusBind: 'http://x' }, 'ERR_ENDPOINT', 'statusBind must be a bindable endpoint'],
    ['an executor without module', { executor: { options: {} } as never }, 'ERR_INVALID_OPTION', 'executor must be an executor spec { module, options? }, got {"options":{}}'],
    ['a bad worker log level', { mapFile: 'm', workerLogLevel: 'loud' }, 'ERR_INVALID_OPTION', 'workerLogLevel must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
  ])('refuses %s', (_, options, code, message) => {
    const error = failure(() => resolveGatewayOptions(options))
    expect(error.code).toBe(code)
    expect(error.message).toContain(message)
  })

  it('keeps the cross-field checks', () => {
    expect(failure(() => resolveGatewayOptions({ mapFile: 'm', capacity: 128, maxWorkerCapacity: 64 })).message).toMatch(/capacity 128 is above maxWorkerCapacity 64/)
    expect(failure(() => resolveGatewayOptions({ mapFile: 'm', maxWorkers: 2, minWorkers: 3 })).message).toMatch(/minWorkers 3 is above maxWorkers 2/)
    expect(failure(() => resolveGatewayOptions({ mapFile: 'm', executor: { module: 'x' } })).message).toMatch(/executor or mapFile, not both/)
    expect(failure(() => resolveGatewayOptions({ maxWorkers: 1 })).message).toMatch(/an executor .* is required when the gateway forks workers/)
  })

  it('fills in the defaults, with a floor of no worker when no worker may be forked', () => {
    const remoteOnly = resolveGatewayOptions({ maxWorkers: 0 })
    expect(remoteOnly).toMatchObject({ maxWorkers: 0, minWorkers: 0, concurrency: 1024, heartbeatLiveness: 3 })
    expect(remoteOnly.executor).toBeUndefined()
    expect(resolveGatewayOptions({ maxWorkers: 4, mapFile: 'm' })).toMatchObject({ minWorkers: 1 })
  })

  it('expands mapFile into the device-map executor, and keeps library-only values as they are', () => {
    const logger = { level: 'info' } as never
    const resolved = resolveGatewayOptions({ mapFile: 'devices.txt', logger })
    expect(resolved.executor).toEqual({ module: 'device-map', options: { file: 'devices.txt' } })
    expect('mapFile' in resolved).toBe(false)
    expect(resolved.logger).toBe(logger)
  })
})

describe('resolveClientOptions', () => {
  it.each<[string, Parameters<typeof resolveClientOptions>[0], string, string]>([
    ['no server', { servers: [] }, 'ERR_ENDPOINT', 'servers must be one or more of a connectable endpoint'],
    ['a wildcard server', { servers: ['tcp://127.0.0.1:*'] }, 'ERR_ENDPOINT', 'got ["tcp://127.0.0.1:*"]'],
    ['batch size 0', { batchSize: 0 }, 'ERR_INVALID_OPTION', 'batchSize must be an integer from 1 to 10000, got 0'],
    ['an empty id', { id: '' }, 'ERR_INVALID_OPTION', 'id must be a string of 1-128 UTF-8 bytes, got ""'],
    ['an id of 129 bytes', { id: 'é'.repeat(64) + 'x' }, 'ERR_INVALID_OPTION', 'id must be a string of 1-128 UTF-8 bytes'],
    ['strict as a string', { strict: 'yes' as unknown as boolean }, 'ERR_INVALID_OPTION', 'strict must be a boolean (true or false), got "yes"'],
  ])('refuses %s', (_, options, code, message) => {
    const error = failure(() => resolveClientOptions(options))
    expect(error.code).toBe(code)
    expect(error.message).toContain(message)
  })

  it('accepts an id of exactly 128 bytes and keeps the caller\'s function options', () => {
    const beforeBatch = (): undefined => undefined
    expect(resolveClientOptions({ id: 'é'.repeat(64), beforeBatch })).toMatchObject({ id: 'é'.repeat(64), beforeBatch, batchSize: 16 })
  })
})

describe('resolveWorkerOptions', () => {
  it.each<[string, Partial<WorkerOptions>, string]>([
    ['no gateway', { gateway: undefined }, 'gateway is required'],
    ['a wildcard gateway', { gateway: 'tcp://*:5558' }, 'gateway must be a connectable endpoint (tcp://host:port or ipc://path), got "tcp://*:5558"'],
    ['no executor', { executor: undefined }, 'executor is required'],
    ['an executor that is not a function', { executor: {} as never }, 'executor must be an executor function, got {}'],
    ['capacity above 1000000', { capacity: 1_000_001 }, 'capacity must be an integer from 1 to 1000000, got 1000001'],
    ['reconnectMaxMs 0', { reconnectMaxMs: 0 }, 'reconnectMaxMs must be an integer >= 1, got 0'],
    ['an id of 129 bytes', { id: 'x'.repeat(129) }, 'id must be a string of 1-128 UTF-8 bytes'],
  ])('refuses %s', (_, overrides, message) => {
    const options = { gateway: 'tcp://127.0.0.1:5558', executor, ...overrides } as WorkerOptions
    expect(failure(() => resolveWorkerOptions(options)).message).toContain(message)
  })

  it('fills in the defaults', () => {
    expect(resolveWorkerOptions({ gateway: 'ipc:///tmp/x.sock', executor })).toMatchObject({ capacity: 64, reconnectMaxMs: 32_000, executor })
  })
})
