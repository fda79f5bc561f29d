/**
 * Options that more than one role has, declared once: what the gateway hands
 * its forked workers is exactly what `run-worker` takes, and every role reads
 * `--log-level` and `--config` the same way.
 */
import { Limits } from '../protocol/limits.js'
import type { Logger } from '../log.js'
import type { ReplySocketsOptions } from '../transport/reply-sockets.js'
import { boolean, httpListen, integer, json, libraryValue, logLevel, text } from './kinds.js'
import type { OptionSpec } from './types.js'

/** Group headings shared by the roles. `undefined` lists a flag under commander's own `Options:`. */
export const Group = {
  endpoints: 'Endpoints:',
  executor: 'Executor:',
  workers: 'Workers:',
  limits: 'Queue and limits:',
  timing: 'Timing:',
  batching: 'Batching:',
  output: 'Output:',
  security: 'Security (CURVE):',
  monitoring: 'Monitoring:',
} as const

/** What a worker runs with, forked or remote. The gateway's `forked` entries are these. */
export const workerSettings = {
  capacity: {
    flag: 'capacity',
    kind: integer(1, Limits.maxCounter),
    unit: 'count',
    default: 64,
    help: 'batches a worker holds at once',
    group: Group.workers,
    forked: true,
  },
  concurrency: {
    flag: 'concurrency',
    kind: integer(1),
    unit: 'count',
    default: 1024,
    help: 'commands in flight per worker',
    group: Group.workers,
    forked: true,
  },
  commandTimeoutMs: {
    flag: 'command-timeout',
    kind: integer(0),
    unit: 'ms',
    default: 0,
    help: 'cancel a command after this long (it reports code 3); 0 = no limit',
    group: Group.timing,
    forked: true,
  },
  heartbeatIntervalMs: {
    flag: 'heartbeat',
    kind: integer(10),
    unit: 'ms',
    default: 1000,
    help: 'heartbeat interval between gateway and worker',
    group: Group.timing,
    forked: true,
  },
  heartbeatLiveness: {
    flag: 'heartbeat-liveness',
    kind: integer(1, 1000),
    unit: 'count',
    default: 3,
    help: 'silent heartbeat intervals after which the other end counts as lost',
    group: Group.timing,
    forked: true,
  },
  maxBatch: {
    flag: 'max-batch',
    kind: integer(1),
    unit: 'count',
    default: Limits.defaultMaxBatch,
    help: 'largest batch accepted, in commands; larger: rejected too-large',
    group: Group.limits,
    forked: true,
  },
  maxMessageBytes: {
    flag: 'max-message-size',
    kind: integer(1024),
    unit: 'bytes',
    default: Limits.defaultMaxMessageBytes,
    help: 'largest message accepted on any socket',
    group: Group.limits,
    forked: true,
  },
} as const satisfies Record<string, OptionSpec<number>>

/** The executor a worker runs: `--map FILE`, `--checks FILE` (with or without `--map`), or any module with its options. */
export const executorFlags = {
  mapFile: {
    flag: 'map',
    short: 'm',
    kind: text('<file>'),
    help: 'device map file to simulate: shorthand for the built-in device-map executor',
    group: Group.executor,
  },
  checksFile: {
    flag: 'checks',
    kind: text('<file>'),
    help: 'run the real checks (exec, tcp, http) of this TOML checks file (docs/CHECKS.md); beside --map, exact map pairs answer first',
    group: Group.executor,
  },
  executorModule: {
    flag: 'executor',
    kind: text('<module>'),
    help: 'executor module every worker imports (a path or a package; device-map is built in)',
    group: Group.executor,
    cliOnly: true,
  },
  executorOptions: {
    flag: 'executor-options',
    kind: json(),
    help: "options passed to the executor module's createExecutor, as JSON",
    group: Group.executor,
    cliOnly: true,
  },
  strict: {
    flag: 'strict',
    kind: boolean(),
    default: false,
    defaultText: 'off',
    help: 'refuse to start (exit 2) if the device map has a bad line',
    negation: 'start despite bad lines, whatever CGW_STRICT or the config file says',
    group: Group.executor,
    cliOnly: true,
  },
} as const

/** `--log-level`, with the role's default. */
export function logLevelFlag<const D extends string>(defaultLevel: D) {
  return {
    flag: 'log-level',
    kind: logLevel(),
    default: defaultLevel,
    help: 'fatal, error, warn, info, debug, trace or silent',
    cliOnly: true,
  } as const
}

/** `--config FILE`: a TOML file whose keys are the long flags; `example` is one of the role's own (`max-workers = 8`). */
export function configFlag(example: string) {
  return {
    flag: 'config',
    kind: text('<file>'),
    help: `read options from this TOML file (keys are the long flags: ${example})`,
    cliOnly: true,
    inConfigFile: false,
  } as const
}

const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null

/** The library-only `logger` option every role has. */
export const loggerOption = {
  kind: libraryValue<Logger>('a pino logger', isObject),
  help: 'where to log',
}

/** The library-only `reply` option: the reply-socket cache of a role that sends to clients. */
export function replyOption(help: string) {
  return { kind: libraryValue<ReplySocketsOptions>('an object', isObject), help }
}

/**
 * CURVE for a process that connects (run-client, run-worker, gateway-status)
 * or binds (run-server): its own certificate turns CURVE on. Paths only:
 * a secret key never travels in an option value, an environment variable of
 * a forked worker or a log line.
 */
export const curveSecretFlag = {
  curveSecret: {
    flag: 'curve-secret',
    kind: text('<file>'),
    defaultText: 'none: plaintext',
    help: "this process's CURVE certificate (NAME.key_secret, as gateway-keygen or pyzmq write it); turns CURVE on",
    group: Group.security,
  },
} as const

/** The gateway's public certificate(s), for the roles that connect to it. */
export const serverKeyFlag = {
  serverKey: {
    flag: 'server-key',
    kind: text('<file>'),
    defaultText: 'none',
    help: "the gateway's public certificate (NAME.key); needed with --curve-secret",
    group: Group.security,
  },
} as const

/** `--http`: the HTTP listener for /metrics (and, on the gateway, /status.json and the dashboard). Off by default. */
export function httpFlag(serves: string) {
  return {
    http: {
      flag: 'http',
      kind: httpListen(),
      defaultText: 'off',
      help: `serve ${serves} over HTTP on HOST:PORT (no host: 127.0.0.1; port 0 picks one)`,
      group: Group.monitoring,
    },
  } as const
}
