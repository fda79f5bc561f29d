/**
 * The client: streams a commands file, batches it, keeps at most `window`
 * batches in flight to the gateways, collects results on its own bound PULL
 * socket, resends what goes unanswered (a bounded number of times), and
 * returns a summary in which every command ends in exactly one count.
 */
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { Pull, Push } from 'zeromq'
import { readCommands, type CommandLine } from '../data/commands-file.js'
import { CappedLineLog, formatBadLine, unloggedLine, type BadLine } from '../data/bad-lines.js'
import { STDIN_PATH, inputName } from '../data/lines.js'
import { ConfigError, InputError, SendError, errorMessage } from '../errors.js'
import { abortFrame, taskFrame } from '../protocol/frames.js'
import { Limits } from '../protocol/limits.js'
import { ResultCode, type CommandOutcome, type RejectedHeader, type ResultHeader } from '../protocol/types.js'
import { warmUpCodec } from '../protocol/warm-up.js'
import { validateClientInboundHeader } from '../protocol/validate.js'
import { isWildcardHost } from '../transport/endpoint.js'
import { Sender } from '../transport/sender.js'
import { receiveLoop } from '../transport/receive-loop.js'
import { RateLimitedLog, silentLogger, type Logger } from '../log.js'
import { background } from '../util/background.js'
import { Batcher, type Batch } from './batcher.js'
import { ResultTally, parseOutcomes } from './results.js'
import type { LostBreakdown, RunSummary } from './summary.js'
import { clientDefaults, resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from './options.js'
export { clientDefaults, type ClientOptions }

/** One command's final record, as `--output` writes it. */
export interface CommandRecord {
  readonly line: number
  readonly address: string
  readonly command: string
  /** The result code, or `null` when the command was lost. */
  readonly code: CommandOutcome[0] | null
  readonly value: unknown
  /** Why the command was lost, when `code` is `null`. */
  readonly lost?: string
}

/** Events of a {@link Client}. */
export interface ClientEvents {
  /** A line of the commands file was skipped. */
  'bad-line': [bad: BadLine]
  /** Every command of a finished batch (answered or lost), in batch order. Attach before `run()`: details are kept only then. */
  records: [records: CommandRecord[]]
  /** A batch was resent, with its new attempt number. */
  resend: [batch: { id: string; attempt: number; why: 'timeout' | 'rejected' }]
}

/** Live counters, for a progress display. */
export interface ClientProgress {
  readonly read: number
  readonly finished: number
  readonly inFlight: number
}

interface InFlight {
  readonly batch: Batch
  attempt: number
  resends: number
  /** When the sweeper acts: resend, or give up once resends ran out. */
  deadline: number
  /** What the next resend answers: a result timeout, or a retryable rejection. */
  nextResend: 'timeout' | 'rejected'
  /** A send of this batch is queued or retrying; the sweeper leaves it alone until it ends. */
  sending: boolean
  /** The frames of that send, to withdraw it from the queue if the batch finishes first. */
  frames: Buffer[] | undefined
}

/** Batches carry their sequence number as a decimal id; anything else is not ours. */
const BATCH_ID = /^[1-9][0-9]{0,15}$/

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
  private readonly malformedLog: RateLimitedLog
  /** Per-batch lines (rejections, batches lost), which a gateway's answers could otherwise flood. */
  private readonly batchLog: RateLimitedLog
  private readonly tally = new ResultTally()
  private readonly inFlight = new Map<number, InFlight>()
  private readonly lost: LostBreakdown = { unsent: 0, rejected: {}, noResult: 0, interrupted: 0 }
  private results: Pull | undefined
  private submit: Push | undefined
  private sender: Sender | undefined
  private replyTo = ''
  private sendError: string | undefined
  private interrupted = false
  private started = false
  private commandsRead = 0
  private badLines = 0
  private resends = 0
  private slotWaiter: (() => void) | undefined
  private drainWaiter: (() => void) | undefined
  private interruptWaiter: (() => void) | undefined
  /** Aborted by interrupt(): stops reading the commands at once, even while waiting for a FIFO's writer. */
  private readonly reading = new AbortController()

  constructor(options: ClientOptions = {}) {
    super()
    const o = resolveClientOptions(options)
    this.options = o
    this.id = o.id ?? randomUUID()
    if (this.id.length === 0 || Buffer.byteLength(this.id) > Limits.idBytes) {
      throw new ConfigError('ERR_INVALID_OPTION', `client id must be 1-${Limits.idBytes} bytes`)
    }
    this.logger = (o.logger ?? silentLogger()).child({ role: 'client' })
    this.malformedLog = new RateLimitedLog(this.logger)
    this.batchLog = new RateLimitedLog(this.logger)
  }

  /** Live counters. */
  get progress(): ClientProgress {
    return { read: this.commandsRead, finished: this.commandsRead - this.pendingCommands(), inFlight: this.inFlight.size }
  }

  /**
   * Sends every command of `path` and resolves with the summary once each
   * has an outcome. `-` reads the commands from standard input; a FIFO is
   * read as its writer writes, until it closes. Throws {@link InputError}
   * when the file cannot be read or has no commands, {@link ConfigError} when
   * a socket cannot bind (or `strict` is asked of input that can be read only
   * once). One run per client.
   */
  async run(path: string): Promise<RunSummary> {
    if (this.started) throw new ConfigError('ERR_INVALID_OPTION', 'a Client runs once; create another for the next run')
    this.started = true
    if (this.options.strict) {
      const checkedAt = performance.now()
      await this.checkStrict(path)
      // Ctrl+C during the check: nothing was sent, and nothing will be.
      if (this.interrupted) return this.summary(performance.now() - checkedAt)
    }
    const startedAt = performance.now()
    warmUpCodec()
    await this.openSockets()
    const sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(1000, this.options.resultTimeoutMs / 4)))
    try {
      await this.sendFile(path)
      if (this.inFlight.size > 0 && !this.interrupted) {
        await new Promise<void>((resolve) => (this.drainWaiter = resolve))
      }
    } finally {
      clearInterval(sweeper)
      if (this.interrupted) this.loseAllInFlight()
      this.closeSockets()
      this.malformedLog.flush()
      this.batchLog.flush()
    }
    if (this.commandsRead === 0 && !this.interrupted) {
      throw new InputError('ERR_INPUT_EMPTY', path, `${inputName(path)} has no commands${this.badLines > 0 ? ` (${this.badLines} bad lines)` : ''}`)
    }
    return this.summary(performance.now() - startedAt)
  }

  /**
   * Stops the run as Ctrl+C does: nothing more is sent, the gateways are
   * told `abort` so they drop this client's queued batches, and `run()`
   * resolves with the partial summary (exit code 130).
   */
  async interrupt(): Promise<void> {
    if (this.interrupted) return
    this.interrupted = true
    this.logger.info('interrupted: aborting queued batches')
    this.reading.abort()
    // A send blocked in its retries must not hold Ctrl+C up.
    this.sender?.close('interrupted')
    this.slotWaiter?.()
    this.drainWaiter?.()
    this.interruptWaiter?.()
    await this.sendAbort()
  }

  /**
   * The first pass of `strict`: reads the whole file, logs the first 100 bad
   * lines and counts the rest (memory stays bounded however many there are),
   * and throws naming the count and the first.
   */
  private async checkStrict(path: string): Promise<void> {
    const name = inputName(path)
    await assertRereadable(path)
    const log = new CappedLineLog((text) => this.logger.error(text))
    let first: BadLine | undefined
    const onBadLine = (line: BadLine): void => {
      first ??= line
      log.add(line)
    }
    for await (const _ of readCommands(path, { onBadLine, signal: this.reading.signal })) void _
    if (first === undefined) return
    const rest = unloggedLine(name, [[log, 'bad lines']])
    if (rest !== undefined) this.logger.error({ badLines: log.count }, rest)
    throw new InputError('ERR_INPUT_BAD_LINES', path, `${name}: ${log.count} bad line(s), first ${formatBadLine(first)}; nothing sent (--strict)`)
  }

  private async openSockets(): Promise<void> {
    const o = this.options
    const results = new Pull({ linger: 0, maxMessageSize: o.maxMessageBytes })
    try {
      await results.bind(o.bind)
    } catch (error) {
      results.close()
      throw new ConfigError('ERR_ENDPOINT', `cannot bind results socket ${o.bind}: ${errorMessage(error)}`, { cause: error })
    }
    const bound = results.lastEndpoint ?? o.bind
    if (o.advertise === undefined && isWildcardHost(bound)) {
      results.close()
      throw new ConfigError(
        'ERR_ENDPOINT',
        `results socket ${o.bind} listens on every interface; pass an address workers can reach with --advertise (e.g. tcp://<this-host>:${bound.split(':').pop()})`,
      )
    }
    this.replyTo = o.advertise ?? bound
    this.results = results
    // Queue only on completed connections: with no gateway up, sends time out and are retried
    // (then reported) instead of piling up in a pipe to nowhere.
    const submit = new Push({ linger: 0, immediate: true })
    for (const server of o.servers) submit.connect(server)
    this.submit = submit
    this.sender = new Sender(submit, o.servers.join(', '), {
      retries: o.sendRetries,
      retryDelayMs: o.retryDelayMs,
      // At most one send per batch in the window is ever queued (sends and resends alike).
      maxBacklog: o.window + 1,
      onRetry: (attempt) => this.logger.warn({ attempt, of: o.sendRetries }, `no gateway accepting at ${o.servers.join(', ')}; retrying`),
    })
    background(receiveLoop(results, (frames) => this.onMessage(frames), { logger: this.logger, what: 'results' }), this.logger, 'results loop')
    this.logger.debug({ replyTo: this.replyTo, servers: o.servers }, 'client ready')
  }

  private closeSockets(): void {
    this.sender?.close('closed')
    this.submit?.close()
    this.results?.close()
  }

  private async sendFile(path: string): Promise<void> {
    // Per-command details are kept only for whoever listens to `records` (attach before run()).
    const batcher = new Batcher(this.options.batchSize, this.listenerCount('records') > 0)
    const log = new CappedLineLog((text) => this.logger.warn(text))
    const onBadLine = (bad: BadLine): void => {
      this.badLines++
      log.add(bad)
      this.emit('bad-line', bad)
    }
    try {
      for await (const chunk of readCommands(path, { onBadLine, signal: this.reading.signal })) {
        if (this.interrupted) break
        for (const command of chunk) {
          this.commandsRead++
          const batch = batcher.add(command)
          if (batch !== undefined) await this.dispatch(batch)
        }
      }
    } finally {
      const rest = unloggedLine(inputName(path), [[log, 'bad lines']])
      if (rest !== undefined) this.logger.warn({ badLines: log.count }, rest)
    }
    const last = batcher.flush()
    if (last !== undefined) await this.dispatch(last)
    this.batchCount = batcher.count
  }

  private batchCount = 0

  /** Sends a batch once the window has room; counts it unsent if sending has stopped. */
  private async dispatch(batch: Batch): Promise<void> {
    const hold = this.options.beforeBatch?.()
    if (hold !== undefined && !this.interrupted) {
      // Ctrl+C must not wait for a consumer that may never catch up (a stalled pipe).
      await new Promise<void>((resolve) => {
        this.interruptWaiter = resolve
        hold.then(resolve, resolve)
      })
      this.interruptWaiter = undefined
    }
    while (this.inFlight.size >= this.options.window && !this.interrupted) {
      await new Promise<void>((resolve) => (this.slotWaiter = resolve))
      this.slotWaiter = undefined
    }
    if (this.interrupted || this.sendError !== undefined) {
      this.loseBatch(batch, this.interrupted ? 'interrupted' : 'unsent')
      return
    }
    const frames = [taskFrame(batch.id, this.id, this.replyTo, 1), batch.body]
    const entry: InFlight = { batch, attempt: 1, resends: 0, deadline: 0, nextResend: 'timeout', sending: true, frames }
    this.inFlight.set(batch.seq, entry)
    try {
      await this.sender!.send(frames)
      // The result timeout runs from when the batch left, not from when it queued for the socket.
      entry.deadline = Date.now() + this.options.resultTimeoutMs
      entry.sending = false
    } catch (error) {
      entry.sending = false
      // Interrupt may already have finished it (counted as interrupted); count it once.
      if (this.inFlight.get(batch.seq) !== entry) return
      this.inFlight.delete(batch.seq)
      if (this.interrupted) {
        this.loseBatch(batch, 'interrupted')
      } else {
        this.loseBatch(batch, 'unsent')
        this.stopSending(error)
      }
      this.afterFinish()
    }
  }

  private stopSending(error: unknown): void {
    if (this.sendError !== undefined) return
    this.sendError = error instanceof SendError ? error.message : errorMessage(error)
    this.logger.error({ err: this.sendError }, 'sending stopped; waiting for batches already sent')
  }

  private async resend(entry: InFlight): Promise<void> {
    const why = entry.nextResend
    entry.nextResend = 'timeout'
    entry.resends++
    entry.attempt++
    const frames = [taskFrame(entry.batch.id, this.id, this.replyTo, entry.attempt), entry.batch.body]
    entry.sending = true
    entry.frames = frames
    this.resends++
    this.emit('resend', { id: entry.batch.id, attempt: entry.attempt, why })
    try {
      await this.sender!.send(frames)
      entry.deadline = Date.now() + this.options.resultTimeoutMs
      entry.sending = false
    } catch (error) {
      entry.sending = false
      // Finished meanwhile (its first copy was answered): the failure of this copy says nothing.
      if (this.inFlight.get(entry.batch.seq) !== entry) return
      if (!this.interrupted) this.stopSending(error)
      // The resend never left: that is an unsent batch, not one that went unanswered.
      this.finishLost(entry, this.interrupted ? 'interrupted' : 'unsent')
    }
  }

  /** Resends batches whose result is overdue, or gives them up once resends run out. */
  private sweep(): void {
    if (this.interrupted) return
    const now = Date.now()
    for (const entry of this.inFlight.values()) {
      if (entry.sending || entry.deadline > now) continue
      if (entry.resends < this.options.maxResends && this.sendError === undefined) {
        this.logger.debug({ id: entry.batch.id, attempt: entry.attempt + 1, why: entry.nextResend }, 'resending')
        background(this.resend(entry), this.logger, `resend of batch ${entry.batch.id}`)
      } else {
        this.batchLog.warn({ id: entry.batch.id, attempts: entry.attempt }, 'no result after every resend; batch lost')
        this.finishLost(entry, 'noResult')
      }
    }
  }

  private onMessage(frames: Buffer[]): void {
    const validated = validateClientInboundHeader(frames[0]!)
    if (!validated.ok) return this.malformedLog.warn({ reason: validated.reason }, 'malformed message on results socket')
    const header = validated.header
    if (header.client !== this.id || !BATCH_ID.test(header.id)) {
      return this.malformedLog.warn({ id: header.id, client: header.client }, 'message for another client or run dropped')
    }
    const seq = Number(header.id)
    if (header.type === 'result') this.onResult(seq, header, frames[1])
    else this.onRejected(seq, header)
  }

  private onResult(seq: number, header: ResultHeader, body: Buffer | undefined): void {
    const entry = this.inFlight.get(seq)
    if (entry === undefined) {
      if (this.tally.isFinished(seq)) this.tally.duplicates++
      return
    }
    const outcomes = parseOutcomes(body, entry.batch.size, this.options.maxMessageBytes)
    if (typeof outcomes === 'string') {
      // Leave it in flight: a resend after the result timeout can still get a good answer.
      return this.malformedLog.warn({ id: header.id, worker: header.worker, reason: outcomes }, 'malformed result dropped')
    }
    this.retire(entry)
    this.tally.recordOutcomes(seq, outcomes)
    const commands = entry.batch.commands
    if (commands !== undefined) {
      this.emit(
        'records',
        outcomes.map(([code, value], i) => ({ line: commands[i]!.line, address: commands[i]!.address, command: commands[i]!.command, code, value })),
      )
    }
    this.afterFinish()
  }

  private onRejected(seq: number, header: RejectedHeader): void {
    const entry = this.inFlight.get(seq)
    if (entry === undefined) return
    if (header.retryable && entry.resends < this.options.maxResends && !this.interrupted && this.sendError === undefined) {
      this.batchLog.info({ id: header.id, reason: header.reason }, 'batch rejected; will resend')
      // The sweeper resends it after one retry delay, not at once: the gateway just said not now.
      entry.deadline = Date.now() + this.options.retryDelayMs
      entry.nextResend = 'rejected'
      return
    }
    this.batchLog.warn({ id: header.id, reason: header.reason }, 'batch rejected')
    this.lost.rejected[header.reason] = (this.lost.rejected[header.reason] ?? 0) + 1
    this.retire(entry)
    this.recordLostCommands(entry.batch, `rejected ${header.reason}`)
    this.afterFinish()
  }

  /**
   * Takes a finished batch out of the window, and its copy still waiting to be
   * sent out of the send queue, which is bounded by the window.
   */
  private retire(entry: InFlight): void {
    this.inFlight.delete(entry.batch.seq)
    if (entry.sending && entry.frames !== undefined) this.sender?.withdraw(entry.frames)
    entry.frames = undefined
  }

  private finishLost(entry: InFlight, cause: 'noResult' | 'interrupted' | 'unsent'): void {
    this.retire(entry)
    this.lost[cause]++
    this.recordLostCommands(entry.batch, cause === 'noResult' ? 'no result' : cause)
    this.afterFinish()
  }

  private loseBatch(batch: Batch, cause: 'unsent' | 'interrupted'): void {
    this.lost[cause]++
    this.recordLostCommands(batch, cause)
  }

  private recordLostCommands(batch: Batch, why: string): void {
    this.tally.recordLost(batch.seq, batch.size)
    const commands = batch.commands
    if (commands !== undefined) {
      this.emit(
        'records',
        commands.map(({ line, address, command }) => ({ line, address, command, code: null, value: null, lost: why })),
      )
    }
  }

  private loseAllInFlight(): void {
    for (const entry of [...this.inFlight.values()]) this.finishLost(entry, 'interrupted')
  }

  private afterFinish(): void {
    if (this.slotWaiter !== undefined && this.inFlight.size < this.options.window) this.slotWaiter()
    if (this.drainWaiter !== undefined && this.inFlight.size === 0) this.drainWaiter()
  }

  private pendingCommands(): number {
    let n = 0
    for (const entry of this.inFlight.values()) n += entry.batch.size
    return n
  }

  private async sendAbort(): Promise<void> {
    const frame = abortFrame(this.id)
    // One short-lived socket per gateway: on the shared PUSH, ZeroMQ would deliver
    // the abort to one gateway only.
    await Promise.all(
      this.options.servers.map(async (server) => {
        let socket: Push | undefined
        try {
          socket = new Push({ linger: 500, sendTimeout: 500 })
          socket.connect(server)
          await socket.send(frame)
        } catch (error) {
          this.logger.warn({ server, err: errorMessage(error) }, 'abort not delivered')
        } finally {
          socket?.close()
        }
      }),
    )
  }

  private summary(elapsedMs: number): RunSummary {
    const counts = this.tally.counts
    const exitCode = this.interrupted ? 130 : counts.lost > 0 ? 1 : 0
    return {
      client: this.id,
      commands: this.commandsRead,
      counts: { ...counts },
      batches: this.batchCount,
      batchSize: this.options.batchSize,
      lostBatches: { ...this.lost, rejected: { ...this.lost.rejected } },
      total: this.tally.total,
      elapsedMs,
      badLines: this.badLines,
      resends: this.resends,
      duplicates: this.tally.duplicates,
      interrupted: this.interrupted,
      ...(this.sendError !== undefined ? { sendError: this.sendError } : {}),
      exitCode,
    }
  }
}

/**
 * `strict` reads the input twice (check, then send); standard input, a FIFO
 * or a device gives its lines only once, so the second pass would send nothing.
 */
async function assertRereadable(path: string): Promise<void> {
  let once: string | undefined
  if (path === STDIN_PATH) once = 'standard input'
  else {
    // stat() never opens the file, so it does not block on a FIFO.
    const stats = await stat(path).catch(() => undefined)
    if (stats?.isFIFO() === true) once = 'a FIFO'
    else if (stats?.isCharacterDevice() === true) once = 'a device'
  }
  if (once !== undefined) {
    throw new ConfigError(
      'ERR_INVALID_OPTION',
      `${inputName(path)} is ${once}: --strict reads the commands twice (check, then send) and ${once} can be read only once; write them to a file first, or leave out --strict`,
    )
  }
}

export { ResultCode }
export type { CommandLine }
