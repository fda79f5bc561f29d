/**
 * The pipeline's commands → batches stage: groups commands into batches of
 * `size`. Each batch is encoded once; a resend reuses the same body frame
 * with a new header.
 */
import { commandListBody } from '../protocol/frames.js'
import type { CommandLine } from '../data/commands-file.js'

/** A batch as the client tracks it. */
export interface Batch {
  /** Sequence number from 1; its decimal form is the batch id on the wire. */
  readonly seq: number
  readonly id: string
  /** Commands in the batch. */
  readonly size: number
  readonly body: Buffer
  /** The batch's commands with their file lines; kept only when the Batcher keeps details. */
  readonly commands?: readonly CommandLine[]
}

export class Batcher {
  private commands: CommandLine[] = []
  private seq = 0
  private added = 0

  constructor(
    readonly size: number,
    /**
     * Keep each batch's commands after encoding, for per-command records.
     * Without them a batch in flight is its body alone, and the parsed lines
     * die young instead of being promoted and collected later (1M commands at
     * batch 256: peak RSS 140 → ~110 MB).
     */
    private readonly keepCommands = true,
  ) {}

  /** Batches produced so far. */
  get count(): number {
    return this.seq
  }

  /** Commands added so far, batched or not yet. */
  get commandCount(): number {
    return this.added
  }

  /** Adds a command; returns the batch it completed, if any. */
  add(command: CommandLine): Batch | undefined {
    this.added++
    this.commands.push(command)
    return this.commands.length >= this.size ? this.flush() : undefined
  }

  /** Returns the partial batch, if there is one. */
  flush(): Batch | undefined {
    const commands = this.commands
    if (commands.length === 0) return undefined
    this.commands = []
    const seq = ++this.seq
    const body = commandListBody(commands)
    return this.keepCommands
      ? { seq, id: String(seq), size: commands.length, body, commands }
      : { seq, id: String(seq), size: commands.length, body }
  }
}

/**
 * Turns a stream of command chunks into batches, the partial last one
 * included, and hands each to `admit`, waiting for it before the next (its
 * back-pressure holds the reading back). A chunk that arrives after `signal`
 * aborted is not taken: the reading stopped, and what it read from then on
 * was never "read". A stream left early (an abort, a throwing `admit`) is
 * closed, as `for await` would.
 *
 * A plain loop, not an async generator: a generator's resumption per batch
 * cost a fresh client a tenth more CPU, most of it optimising the generator
 * again and again. Each chunk is taken by {@link takeChunk}, whose frame is
 * gone once the chunk is batched: a loop variable would keep the last chunk
 * alive while the reader builds the next.
 */
export async function feedBatches(
  chunks: AsyncIterable<readonly CommandLine[]>,
  batcher: Batcher,
  admit: (batch: Batch) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const iterator = chunks[Symbol.asyncIterator]()
  let exhausted = false
  try {
    for (;;) {
      const taken = await takeChunk(iterator, batcher, admit, signal)
      if (taken === 'end') exhausted = true
      if (taken !== 'more') break
    }
  } finally {
    if (!exhausted) await iterator.return?.()
  }
  const last = batcher.flush()
  if (last !== undefined) await admit(last)
}

/** Reads one chunk and admits the batches it completes: `end` when the stream is done, `stopped` after an abort. */
async function takeChunk(
  iterator: AsyncIterator<readonly CommandLine[]>,
  batcher: Batcher,
  admit: (batch: Batch) => Promise<void>,
  signal: AbortSignal | undefined,
): Promise<'more' | 'end' | 'stopped'> {
  const next = await iterator.next()
  if (next.done === true) return 'end'
  if (signal?.aborted === true) return 'stopped'
  for (const command of next.value) {
    const batch = batcher.add(command)
    if (batch !== undefined) await admit(batch)
  }
  return 'more'
}
