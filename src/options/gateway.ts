/**
 * The gateway's options (`new Gateway()` and `run-server`), declared once.
 * Keys are GatewayOptions' names; see types.ts for what each field feeds.
 */
import { availableParallelism } from 'node:os'
import type { ExecutorSpec } from '../executors/types.js'
import { Limits } from '../protocol/limits.js'
import { splitReplyAllow } from '../security/reply-policy.js'
import { INVALID, endpoint, integer, libraryValue, logLevel, text, type Kind } from './kinds.js'
import { Group, configFlag, curveSecretFlag, executorFlags, httpFlag, logLevelFlag, loggerOption, replyOption, workerSettings } from './shared.js'
import { defineSchema } from './types.js'

const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null

/**
 * `--reply-allow`: entries after one flag, split on commas (`10.0.0.0/8,ipc`),
 * or an array in a config file or a library call. Each entry is checked by
 * resolveGatewayOptions, whose message names the entry and what is wrong with it.
 */
function replyAllowList(): Kind<readonly string[]> {
  const ok = (list: readonly unknown[]): boolean => list.length > 0 && list.every((entry) => typeof entry === 'string' && entry.length > 0 && !/[\s,]/.test(entry))
  const read = (list: readonly unknown[]): readonly string[] | typeof INVALID => (ok(list) ? (list as readonly string[]) : INVALID)
  return {
    name: 'list',
    placeholder: '<list>',
    expected: 'a comma-separated list of CIDR blocks, addresses, host-name globs and the word ipc',
    fromText: (s) => read(splitReplyAllow(s)),
    fromValue: (value) => (typeof value === 'string' ? read(splitReplyAllow(value)) : Array.isArray(value) ? read(value) : INVALID),
  }
}

/** An allow-list directory of the gateway: `*.key` public certificates (gateway-keygen or pyzmq's). */
function allowList(who: string, port: string, defaultText: string) {
  return { flag: `${who}-allow`, kind: text('<dir>'), defaultText, help: `directory of the ${port}'s allowed CURVE keys (*.key certificates); needs --curve-secret`, group: Group.security } as const
}

export const gatewaySchema = defineSchema({
  bind: {
    flag: 'bind',
    short: 'b',
    kind: endpoint('bind'),
    default: 'tcp://127.0.0.1:5557',
    help: 'intake endpoint clients send to; tcp://127.0.0.1:* picks a free port',
    group: Group.endpoints,
  },
  workersBind: {
    flag: 'workers-bind',
    kind: endpoint('bind'),
    defaultText: 'a fresh ipc:// path in the temp dir',
    help: 'worker port; a tcp:// endpoint lets remote workers (run-worker) join',
    group: Group.endpoints,
  },
  statusBind: {
    flag: 'status',
    kind: endpoint('bind'),
    defaultText: 'none',
    help: 'answer gateway-status requests on this endpoint (REP)',
    group: Group.endpoints,
  },
  ...httpFlag('/metrics, /status.json and the dashboard at /'),
  ...executorFlags,
  executor: {
    kind: libraryValue<ExecutorSpec>('an executor spec { module, options? }', (v) => isObject(v) && typeof (v as { module?: unknown }).module === 'string'),
    help: 'the executor module every forked worker imports',
    forked: true,
  },
  maxWorkers: {
    flag: 'max-workers',
    short: 'w',
    kind: integer(0, 4096),
    unit: 'count',
    default: availableParallelism(),
    defaultText: 'number of CPUs',
    help: 'most forked workers; 0 forks none (remote workers only, no executor needed)',
    group: Group.workers,
  },
  minWorkers: {
    flag: 'min-workers',
    kind: integer(0, 4096),
    unit: 'count',
    default: 1,
    defaultText: '1 (0 when -w 0)',
    help: 'workers forked at start and re-forked if they die; the pool grows with load',
    group: Group.workers,
  },
  idleTimeoutMs: {
    flag: 'idle-timeout',
    kind: integer(0),
    unit: 'ms',
    default: 60_000,
    help: 'a forked worker beyond --min-workers that held nothing this long gets the poison pill; 0 = never',
    group: Group.workers,
  },
  ...workerSettings,
  maxWorkerCapacity: {
    flag: 'max-worker-capacity',
    kind: integer(1, Limits.maxCounter),
    unit: 'count',
    default: 64,
    help: 'most batches any worker (forked or remote) may hold, whatever its ready declares',
    group: Group.workers,
  },
  maxConnectedWorkers: {
    flag: 'max-connected-workers',
    kind: integer(1),
    unit: 'count',
    default: 4096,
    help: 'most workers connected at once; a ready beyond it is ignored',
    group: Group.workers,
  },
  workerLogLevel: {
    flag: 'worker-log-level',
    kind: logLevel(),
    defaultText: 'the --log-level',
    help: 'log level of forked workers',
    group: Group.workers,
  },
  holdTimeoutMs: {
    flag: 'hold-timeout',
    kind: integer(0),
    unit: 'ms',
    default: 600_000,
    help: 'a batch one worker held this long is run elsewhere and that worker dropped (SIGKILLed if forked); 0 = never',
    group: Group.timing,
  },
  graceMs: {
    flag: 'grace',
    kind: integer(0),
    unit: 'ms',
    default: 10_000,
    help: 'time workers get after the poison pill before SIGKILL',
    group: Group.timing,
  },
  queueLimit: {
    flag: 'queue-limit',
    kind: integer(1),
    unit: 'count',
    default: 1000,
    help: 'queued batches before the gateway stops reading its intake',
    group: Group.limits,
  },
  queueBytes: {
    flag: 'queue-bytes',
    kind: integer(1),
    unit: 'bytes',
    default: 256 * 1024 * 1024,
    help: 'body bytes queued or held by workers before the gateway stops reading its intake',
    group: Group.limits,
  },
  maxAttempts: {
    flag: 'max-attempts',
    kind: integer(1, 1000),
    unit: 'count',
    default: 3,
    help: 'runs per batch (first run and re-runs after worker deaths) before it is rejected attempts-exhausted',
    group: Group.limits,
  },
  intakeHighWaterMark: {
    flag: 'intake-hwm',
    kind: integer(1),
    unit: 'count',
    default: 32,
    help: 'messages ZeroMQ buffers per client connection on the intake (ZMQ_RCVHWM)',
    group: Group.limits,
  },
  curveSecret: {
    ...curveSecretFlag.curveSecret,
    help: "the gateway's CURVE certificate (NAME.key_secret, as gateway-keygen or pyzmq write it): intake, worker port and status port become CURVE servers",
    // Its path, never the key: forked workers present the gateway's key pair.
    forked: true,
  },
  clientsAllow: allowList('clients', 'intake', 'none: required with --curve-secret'),
  workersAllow: allowList('workers', 'worker port', "only the gateway's own key (its forked workers); required with --workers-bind"),
  adminsAllow: allowList('admins', 'status port', 'none: required with --curve-secret and --status'),
  replyAllow: {
    flag: 'reply-allow',
    kind: replyAllowList(),
    defaultText: 'any replyTo (with a warning when CURVE is on)',
    help: 'replyTo endpoints a task may name, e.g. 10.0.0.0/8,*.dc1.example,ipc (CIDR blocks, addresses, host-name globs, ipc); a task outside is dropped unanswered (not-allowed)',
    group: Group.security,
  },
  reply: replyOption('options of the socket cache used to send rejected to clients'),
  logger: loggerOption,
  logLevel: logLevelFlag('info'),
  config: configFlag('max-workers = 8'),
})
