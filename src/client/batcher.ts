/**
 * Groups commands into batches of `size`. Each batch is encoded once; a
 * resend reuses the same body frame with a new header.
 */
import { commandsBody } from '../protocol/frames.js'
import type { CommandPair } from '../protocol/types.js'
import type { CommandLine } from '../data/commands-file.js'

/** A batch as the client tracks it. */
export interface Batch {
  /** Sequence number from 1; its decimal form is the batch id on the wire. */
  readonly seq: number
  readonly id: string
  readonly pairs: readonly CommandPair[]
  /** File line of each command, for `--output`. */
  readonly lines: readonly number[]
  readonly body: Buffer
}

export class Batcher {
  private pairs: CommandPair[] = []
  private lines: number[] = []
  private seq = 0

  constructor(readonly size: number) {}

  /** Batches produced so far. */
  get count(): number {
    return this.seq
  }

  /** Adds a command; returns the batch it completed, if any. */
  add(command: CommandLine): Batch | undefined {
    this.pairs.push([command.address, command.command])
    this.lines.push(command.line)
    return this.pairs.length >= this.size ? this.flush() : undefined
  }

  /** Returns the partial batch, if there is one. */
  flush(): Batch | undefined {
    if (this.pairs.length === 0) return undefined
    const seq = ++this.seq
    const batch: Batch = { seq, id: String(seq), pairs: this.pairs, lines: this.lines, body: commandsBody(this.pairs) }
    this.pairs = []
    this.lines = []
    return batch
  }
}
