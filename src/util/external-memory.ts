/**
 * zeromq.js hands received frames over as Buffers backed by libzmq's own
 * memory, and does not report that memory to V8. V8 therefore sees a tiny
 * heap and scavenges rarely, while every dead frame keeps its libzmq memory
 * until the next scavenge: a gateway that allocates little JavaScript per
 * batch grows its RSS by the frames it has already forwarded. Counting the
 * bytes received and asking for a collection every `budget` bytes does
 * what a binding's AdjustAmountOfExternalAllocatedMemory would have done.
 *
 * `gc` is reached through V8's flag API (the same `--expose-gc` tests use);
 * where that is refused, counting does nothing.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

type Collect = () => void

function exposeGc(): Collect | undefined {
  try {
    const existing = (globalThis as { gc?: () => void }).gc
    if (typeof existing === 'function') return () => existing()
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as (() => void) | undefined
    return typeof gc === 'function' ? () => gc() : undefined
  } catch {
    return undefined
  }
}

export class ExternalMemoryBudget {
  private pending = 0
  /** Full collections asked for so far. */
  collections = 0

  constructor(
    private readonly budget: number = 4 * 1024 * 1024,
    private readonly collect: Collect | null = exposeGc() ?? null,
  ) {}

  /** Counts `bytes` of frames received; every `budget` bytes, one full collection (a minor one frees too little: the frames are old by then). */
  received(bytes: number): void {
    this.pending += bytes
    if (this.pending < this.budget || this.collect === null) return
    this.pending = 0
    this.collections++
    this.collect()
  }
}
