/**
 * A {@link TimerPort} on a fake clock for the batch runner's unit tests:
 * nothing fires until `advance` passes its due time.
 */
import type { TimerPort } from '../../src/worker/batch-runner.js'

/** Lets promise chains and the immediates they queue run out. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
}

export class FakeTimers implements TimerPort {
  now = 0
  private readonly pending = new Map<number, { due: number; callback: () => void }>()
  private nextHandle = 1

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.nextHandle++
    this.pending.set(handle, { due: this.now + ms, callback })
    return handle
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number)
  }

  get count(): number {
    return this.pending.size
  }

  /** Moves the clock to `now + ms`, firing what falls due in due order, each with its promises settled. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms
    for (;;) {
      const next = [...this.pending.entries()].sort((a, b) => a[1].due - b[1].due)[0]
      if (next === undefined || next[1].due > until) break
      this.pending.delete(next[0])
      this.now = next[1].due
      next[1].callback()
      await settle()
    }
    this.now = until
    await settle()
  }
}
