/**
 * The client's options (`new Client()` and `run-client`), declared once.
 * Keys are ClientOptions' names; see types.ts for what each field feeds.
 */
import { DEFAULT_FAIL_ON, FAIL_ON_ITEMS, parseFailOn, readFailOn, type FailOnItem } from '../client/fail-on.js'
import { Limits } from '../protocol/limits.js'
import { INVALID, boolean, endpoint, endpoints, integer, libraryValue, text, type Kind } from './kinds.js'
import { Group, configFlag, curveSecretFlag, logLevelFlag, loggerOption, serverKeyFlag, workerSettings } from './shared.js'
import { defineSchema } from './types.js'

/** `--fail-on`'s list: `lost,unknown` (or space-separated) as text, an array of items in a library call or a config file. */
function failOnList(): Kind<readonly FailOnItem[]> {
  const orInvalid = (list: readonly FailOnItem[] | undefined): readonly FailOnItem[] | typeof INVALID => list ?? INVALID
  return {
    name: 'list',
    placeholder: '<list>',
    expected: `a comma-separated list of ${FAIL_ON_ITEMS.join(', ')}`,
    fromText: (s) => orInvalid(parseFailOn(s)),
    fromValue: (value) => (typeof value === 'string' ? orInvalid(parseFailOn(value)) : Array.isArray(value) ? orInvalid(readFailOn(value)) : INVALID),
  }
}

/**
 * Certificate files: the flag repeated (`--server-key a.key --server-key b.key`) or
 * `a,b` (also in the environment); a string or an array in a library call or a
 * config file. Not `<file...>`: a variadic flag would swallow the commands file after it.
 */
function fileList(): Kind<readonly string[]> {
  const all = (list: readonly unknown[]): readonly string[] | typeof INVALID =>
    list.length > 0 && list.every((file) => typeof file === 'string' && file.length > 0) ? (list as readonly string[]) : INVALID
  return {
    name: 'file list',
    placeholder: '<file>',
    variadic: true,
    expected: 'one or more certificate files (the flag repeated, or a,b)',
    fromText: (s) => all(s.split(',').map((part) => part.trim()).filter((part) => part.length > 0)),
    fromValue: (value) => (typeof value === 'string' ? all([value]) : Array.isArray(value) ? all(value) : INVALID),
  }
}

export const clientSchema = defineSchema({
  servers: {
    flag: 'server',
    short: 's',
    kind: endpoints(),
    default: ['tcp://127.0.0.1:5557'],
    help: 'gateway intake endpoint(s); several spread the batches round-robin',
    group: Group.endpoints,
  },
  bind: {
    flag: 'bind',
    short: 'b',
    kind: endpoint('bind'),
    default: 'tcp://127.0.0.1:5556',
    help: 'results socket to bind; tcp://127.0.0.1:* picks a free port',
    group: Group.endpoints,
  },
  advertise: {
    flag: 'advertise',
    kind: endpoint('connect'),
    help: 'replyTo to announce; required when --bind listens on every interface (tcp://*:port, tcp://0.0.0.0:port)',
    group: Group.endpoints,
  },
  batchSize: {
    flag: 'batch-size',
    short: 'n',
    kind: integer(1, Limits.defaultMaxBatch),
    unit: 'count',
    default: 16,
    help: 'commands per batch',
    group: Group.batching,
  },
  window: {
    flag: 'window',
    kind: integer(1, 1_000_000),
    unit: 'count',
    default: 256,
    help: 'batches in flight (sent, not yet answered)',
    group: Group.batching,
  },
  sendRetries: {
    flag: 'send-retries',
    kind: integer(0, 1000),
    unit: 'count',
    default: 10,
    help: 'retries when no gateway accepts a batch',
    group: Group.batching,
  },
  retryDelayMs: {
    flag: 'retry-delay',
    kind: integer(1),
    unit: 'ms',
    default: 1000,
    help: 'how long each send attempt waits',
    group: Group.batching,
  },
  resultTimeoutMs: {
    flag: 'result-timeout',
    kind: integer(1),
    unit: 'ms',
    default: 30_000,
    help: 'resend a batch with no result after this',
    group: Group.batching,
  },
  maxResends: {
    flag: 'max-resends',
    kind: integer(0, 1000),
    unit: 'count',
    default: 3,
    help: 'resends per batch before it counts as lost',
    group: Group.batching,
  },
  abortGraceMs: {
    flag: 'abort-grace',
    kind: integer(0),
    unit: 'ms',
    default: 2000,
    help: 'after Ctrl+C, wait this long for the results of batches already sent (cancelled ones come back as cancelled); 0 = do not wait',
    group: Group.batching,
  },
  maxMessageBytes: { ...workerSettings.maxMessageBytes, help: 'largest result message accepted', group: Group.batching, forked: false },
  id: {
    flag: 'id',
    kind: text('<id>', { minBytes: 1, maxBytes: Limits.idBytes }),
    defaultText: 'a random UUID',
    help: "this run's client id",
    group: Group.batching,
  },
  strict: {
    flag: 'strict',
    kind: boolean(),
    default: false,
    defaultText: 'off',
    help: 'refuse to send anything (exit 2) if the file has a bad line',
    negation: 'skip bad lines and send the rest, whatever CGW_STRICT or the config file says',
    group: Group.output,
  },
  failOn: {
    flag: 'fail-on',
    kind: failOnList(),
    default: DEFAULT_FAIL_ON,
    defaultText: DEFAULT_FAIL_ON.join(','),
    help: 'exit 1 when a command ends in one of these: ok, unknown, failed, timeout, cancelled, lost, state:warning, state:critical, state:unknown',
    group: Group.output,
  },
  output: {
    flag: 'output',
    kind: text('<file>'),
    help: 'write one JSON line per command: line, address, command, code, outcome, value, ms, worker',
    group: Group.output,
    cliOnly: true,
  },
  json: {
    flag: 'json',
    kind: boolean(),
    default: false,
    defaultText: 'off',
    help: 'print the summary as one JSON object',
    negation: 'print the summary as text, whatever CGW_JSON or the config file says',
    group: Group.output,
    cliOnly: true,
  },
  progress: {
    flag: 'progress',
    kind: boolean(),
    defaultText: 'on when stderr is a terminal',
    help: 'progress on stderr: <done>/<total> commands (<p> %) · <rate> commands/s · ETA mm:ss · <n> batches in flight (README: reading the progress line)',
    negation: 'no progress display',
    group: Group.output,
    cliOnly: true,
  },
  ...curveSecretFlag,
  serverKey: {
    ...serverKeyFlag.serverKey,
    kind: fileList(),
    help: "the gateway's public certificate (NAME.key): one for every --server, or one per --server in the same order (repeat the flag); needed with --curve-secret",
  },
  workersAllow: {
    flag: 'workers-allow',
    kind: text('<dir>'),
    defaultText: 'any key',
    help: 'with --curve-secret: take results only from workers whose public certificate (NAME.key) is in this directory',
    group: Group.security,
  },
  beforeBatch: {
    kind: libraryValue<() => Promise<void> | undefined>('a function', (v) => typeof v === 'function'),
    help: 'awaited before each new batch is sent',
  },
  logger: loggerOption,
  logLevel: logLevelFlag('warn'),
  config: configFlag('batch-size = 64'),
})
