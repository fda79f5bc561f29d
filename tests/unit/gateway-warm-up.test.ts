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
    expect(warmUpCore(resolveGatewayOptions({ maxWorkers: 0 }), 1000).completed).toBe(1000)
    expect(warmUpCore(resolveGatewayOptions({ maxWorkers: 0, maxWorkerCapacity: 1, capacity: 1, queueLimit: 1 }), 50).completed).toBe(50)
  })

  it("runs the done path that adds workers' counts up, not the one that refuses them", () => {
    // 1000 batches of 1 command, but every 50th of 16; 7 in 8 of them come with counts.
    const { completed, ok } = warmUpCore(resolveGatewayOptions({ maxWorkers: 0 }), 1000)
    expect(completed).toBe(1000)
    expect(ok).toBeGreaterThan((1000 * 7) / 8 - 50)
    expect(ok).toBeLessThanOrEqual(1000 + 20 * 15)
  })
})
