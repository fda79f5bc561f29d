/**
 * The worker's start-up warm-up runs whole batches through a throwaway
 * runner with a no-op executor: every batch settles, and the user's executor
 * is never called (warm-up must not reach a device).
 */
import { describe, expect, it } from 'vitest'
import { warmUpRunner } from '../../src/worker/warm-up.js'

describe('warmUpRunner', () => {
  it('settles every batch, with a concurrency far below the commands waiting', async () => {
    expect(await warmUpRunner(1024, 10)).toBe(10)
    expect(await warmUpRunner(1, 3)).toBe(3)
  })
})
