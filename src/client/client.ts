/**
 * The client, as a composition root. A run is one pipeline that flows one
 * way: lines → commands (input.ts) → batches (batcher.ts) → window
 * (dispatcher.ts over the window.ts core) → socket (submit-port.ts). Results
 * come back on the results port (results-port.ts) and settle in the tally
 * (tally.ts), in which every command ends in exactly one count.
 */
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import type { CommandLine } from '../data/commands-file.js'
import type { CommandInput } from '../data/command-items.js'
import type { BadLine } from '../data/bad-lines.js'
import { ConfigError, InputError } from '../errors.js'
import { Limits } from '../protocol/limits.js'
import { ResultCode } from '../protocol/types.js'
import { warmUpCodec } from '../protocol/warm-up.js'
import { RateLimitedLog, silentLogger, type Logger } from '../log.js'
import { readPeerKeys, type PeerKeys } from '../security/peer-keys.js'
import { monotonicClock } from '../util/clock.js'
import { Batcher, feedBatches, type Batch } from './batcher.js'
import { Dispatcher } from './dispatcher.js'
import { failuresOf } from './fail-on.js'
import { assertSource, checkStrict, readInput, sourceName, type CommandSource } from './input.js'
import type { CommandRecord } from './records.js'
import { ResultsPort } from './results-port.js'
import { resultsCurve } from './results-curve.js'
import type { ClientEvents, ClientProgress } from './events.js'
import { SubmitPort, sendAbort } from './submit-port.js'
import type { RunSummary } from './summary.js'
import { ResultTally } from './tally.js'
import { InFlightWindow } from './window.js'
import { clientDefaults, resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from './options.js'
export { clientDefaults, type ClientOptions }
export type { ClientEvents, ClientProgress }

/**
 * @example
 * const client = new Client({ servers: ['tcp://127.0.0.1:5557'], bind: 'tcp://127.0.0.1:*' })
 * const summary = await client.run('commands.txt')
 * console.log(formatSummary(summary))
 */
export class Client extends EventEmitter<ClientEvents> {
  readonly id: string
  private readonly options: ResolvedClientOptions
  private readonly logger: Logger
  private readonly clock = monotonicClock
  private readonly window: InFlightWindow<Batch>
  private readonly tally = new ResultTally()
  /** CURVE keys, read from their files at construction; undefined: plaintext. */
  private readonly keys: PeerKeys | undefined
  /** Worker connections to the results socket that --workers-allow refused. */
  private workersRefused = 0
  /** Aborted by interrupt(): stops the reading at once, even while waiting for a FIFO's writer, and every wait of the run. */
  private readonly stopping = new AbortController()
  private batcher: Batcher | undefined
  private submit: SubmitPort | undefined
  private sendError: string | undefined
  /** When interrupt() was called: the abort grace runs from then. */
  private interruptedAt = 0
  private badLines = 0
  private inputDone = false
  private started = false

  constructor(options: ClientOptions = {}) {
    super()
    const o = resolveClientOptions(options)
    this.options = o
    this.id = o.id ?? randomUUID()
    if (this.id.length === 0 || Buffer.byteLength(this.id) > Limits.idBytes) {
      throw new ConfigError('ERR_INVALID_OPTION', `client id must be 1-${Limits.idBytes} bytes`)
    }
    this.logger = (o.logger ?? silentLogger()).child({ role: 'client' })
    this.window = new InFlightWindow(o)
    this.keys = readPeerKeys(o, o.servers.length)
  }

  /** Live counters; cheap to read (a few fields), so a display may poll it often. */
  get progress(): ClientProgress {
    const waiting = this.submit?.waiting
    return {
      read: this.batcher?.commandCount ?? 0,
      inputDone: this.inputDone,
      finished: this.tally.settled,
      answered: this.tally.answered,
      inFlight: this.window.size,
      ...(waiting === undefined ? {} : { waiting }),
    }
  }

  private get interrupted(): boolean {
    return this.stopping.signal.aborted
  }

  /**
   * Sends every command of `source` and resolves with the summary once each
   * has an outcome. `source` is a path, `-` for standard input (a FIFO is
   * read as its writer writes, until it closes), or any iterable, async or
   * not, of `{ address, command }`, whose items are numbered by position
   * (from 1) where a file gives line numbers. Throws {@link InputError} when
   * the input cannot be read or has no commands, {@link ConfigError} when a
   * socket cannot bind, or when `strict` is asked of input that can be read
   * only once (standard input, a FIFO, an iterable). One run per client.
   */
  async run(source: CommandSource): Promise<RunSummary> {
    assertSource(source)
    if (this.started) throw new ConfigError('ERR_INVALID_OPTION', 'a Client runs once; create another for the next run')
    this.started = true
    const o = this.options
    const signal = this.stopping.signal
    if (o.strict) {
      const checkedAt = this.clock()
      await checkStrict(source, { logger: this.logger, signal })
      // Ctrl+C during the check: nothing was sent, and nothing will be.
      if (this.interrupted) return this.summary(this.clock() - checkedAt)
    }
    const startedAt = this.clock()
    warmUpCodec()
    const refusedLog = new RateLimitedLog(this.logger)
    const results = await ResultsPort.bind({ ...o, logger: this.logger, curve: await resultsCurve({ keys: this.keys, workersAllow: o.workersAllow, logger: this.logger, refusedLog, onRefused: () => this.workersRefused++ }) })
    let submit: SubmitPort
    try {
      // At most one send per batch in the window is ever queued (sends and resends alike).
      submit = new SubmitPort({ ...o, clientId: this.id, replyTo: results.replyTo, logger: this.logger, maxBacklog: o.window + 1, curve: this.keys, clock: this.clock })
    } catch (error) {
      results.close()
      throw error
    }
    this.submit = submit
    const dispatcher = new Dispatcher({
      window: this.window,
      tally: this.tally,
      submit,
      clock: this.clock,
      signal,
      logger: this.logger,
      maxMessageBytes: o.maxMessageBytes,
      resultTimeoutMs: o.resultTimeoutMs,
      beforeBatch: o.beforeBatch,
      onRecords: (records) => this.emit('records', records),
      onResend: (resend) => this.emit('resend', resend),
    })
    results.start(this.id, dispatcher)
    this.logger.debug({ replyTo: results.replyTo, servers: o.servers, curve: this.keys?.identity.publicKey ?? 'off' }, 'client ready')
    // Decided after the first await: a `records` listener attached in the same turn as run() counts.
    const batcher = new Batcher(o.batchSize, this.listenerCount('records') > 0)
    this.batcher = batcher
    const onBadLine = (bad: BadLine): void => {
      this.badLines++
      this.emit('bad-line', bad)
    }
    try {
      const onEnd = (): void => {
        this.inputDone = true
      }
      await feedBatches(readInput(source, { logger: this.logger, signal, onBadLine, onEnd }), batcher, (batch) => dispatcher.admit(batch), signal)
      await dispatcher.drained()
      // The gateways cancel what runs for us: its results (code 4, or real ones) come back soon.
      if (this.interrupted) await dispatcher.settledWithin(o.abortGraceMs - (this.clock() - this.interruptedAt))
    } finally {
      try {
        dispatcher.close()
      } finally {
        this.sendError = dispatcher.sendError
        submit.close()
        results.close()
        refusedLog.flush()
      }
    }
    if (batcher.commandCount === 0 && !this.interrupted) {
      const name = sourceName(source)
      throw new InputError('ERR_INPUT_EMPTY', typeof source === 'string' ? source : name, `${name} has no commands${this.badLines > 0 ? ` (${this.badLines} bad lines)` : ''}`)
    }
    return this.summary(this.clock() - startedAt)
  }

  /**
   * Stops the run as Ctrl+C does: nothing more is sent, and the gateways are
   * told `abort`, so they drop this client's queued batches and cancel its
   * running ones. `run()` then waits up to `abortGraceMs` (from this call)
   * for the results of the batches in flight, which come back as `cancelled`
   * (code 4) or with their real outcomes; what is still out then counts as
   * lost, `interrupted`. It resolves with the partial summary (exit code
   * 130). This resolves once the abort is sent.
   */
  async interrupt(): Promise<void> {
    if (this.interrupted) return
    this.interruptedAt = this.clock()
    this.logger.info({ inFlight: this.window.size, graceMs: this.options.abortGraceMs }, 'interrupted: aborting; waiting for the batches in flight')
    // The window first: the sends failed by stopping the sender below then count as interrupted, not unsent.
    this.window.interrupt()
    this.stopping.abort()
    // A send blocked in its retries must not hold Ctrl+C up.
    this.submit?.stop('interrupted')
    await sendAbort(this.options.servers, this.id, this.logger, this.keys)
  }

  private summary(elapsedMs: number): RunSummary {
    const tally = this.tally
    const failedOn = failuresOf(this.options.failOn, tally.counts, tally.states)
    const exitCode = this.interrupted ? 130 : failedOn.length > 0 ? 1 : 0
    return {
      client: this.id,
      commands: this.batcher?.commandCount ?? 0,
      sent: this.window.sentCommands,
      counts: { ...tally.counts },
      states: { ...tally.states },
      batches: this.batcher?.count ?? 0,
      batchSize: this.options.batchSize,
      lostBatches: { ...tally.lostBatches, rejected: { ...tally.lostBatches.rejected } },
      total: tally.total,
      elapsedMs,
      badLines: this.badLines,
      resends: this.window.resends,
      duplicates: tally.duplicates,
      interrupted: this.interrupted,
      ...(this.sendError !== undefined ? { sendError: this.sendError } : {}),
      ...(this.options.workersAllow !== undefined ? { workersRefused: this.workersRefused } : {}),
      failedOn,
      exitCode,
    }
  }
}

export { ResultCode }
export type { CommandLine, CommandInput, CommandRecord, CommandSource }
