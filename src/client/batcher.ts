/**
 * Groups commands into batches of `size`. Each batch is encoded once; a
 * resend reuses the same body frame with a new header.
 */
import { commandsBody } from '../protocol/frames.js'
import type { CommandPair } from '../protocol/types.js'
import type { CommandLine } from '../data/commands-file.js'

/** What a batch's commands were, kept only when someone reads per-command records. */
export interface BatchDetail {
  readonly pairs: readonly CommandPair[]
  /** File line of each command, for `--output`. */
  readonly lines: readonly number[]
}

/** A batch as the client tracks it. */
export interface Batch {
  /** Sequence number from 1; its decimal form is the batch id on the wire. */
  readonly seq: number
  readonly id: string
  /** Commands in the batch. */
  readonly size: number
  readonly body: Buffer
  /** Present when the Batcher keeps details. */
  readonly detail?: BatchDetail
}

export class Batcher {
  private pairs: CommandPair[] = []
  private lines: number[] = []
  private seq = 0

  constructor(
    readonly size: number,
    /**
     * Keep each batch's pairs and lines after encoding. Without them a batch in
     * flight is its body alone: the pairs die young instead of being promoted
     * and collected later (1M commands at batch 256: peak RSS 140 → 100 MB).
     */
    private readonly keepDetail = true,
  ) {}

  /** Batches produced so far. */
  get count(): number {
    return this.seq
  }

  /** Adds a command; returns the batch it completed, if any. */
  add(command: CommandLine): Batch | undefined {
    this.pairs.push([command.address, command.command])
    if (this.keepDetail) this.lines.push(command.line)
    return this.pairs.length >= this.size ? this.flush() : undefined
  }

  /** Returns the partial batch, if there is one. */
  flush(): Batch | undefined {
    if (this.pairs.length === 0) return undefined
    const seq = ++this.seq
    const pairs = this.pairs
    const body = commandsBody(pairs)
    const batch: Batch = this.keepDetail
      ? { seq, id: String(seq), size: pairs.length, body, detail: { pairs, lines: this.lines } }
      : { seq, id: String(seq), size: pairs.length, body }
    this.pairs = []
    this.lines = []
    return batch
  }
}
