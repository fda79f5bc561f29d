/**
 * The gateway's start-up warm-up drives a throwaway core through whole
 * batches (admitted, dispatched, done), so it exercises the hot path it is
 * there to compile, and it leaves nothing behind.
 */
import { describe, expect, it } from 'vitest'
import { resolveGatewayOptions } from '../../src/gateway/options.js'
import { warmUpCore } from '../../src/gateway/warm-up.js'

describe('warmUpCore', () => {
  it('completes every batch it admits, with a small capacity cap too', () => {
    expect(warmUpCore(resolveGatewayOptions({ maxWorkers: 0 }), 1000)).toBe(1000)
    expect(warmUpCore(resolveGatewayOptions({ maxWorkers: 0, maxWorkerCapacity: 1, capacity: 1, queueLimit: 1 }), 50)).toBe(50)
  })
})
