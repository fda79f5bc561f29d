/**
 * The worker's options (`new Worker()` and `run-worker`), declared once.
 * Keys are WorkerOptions' names; see types.ts for what each field feeds.
 */
import type { Executor } from '../executors/types.js'
import { Limits } from '../protocol/limits.js'
import { endpoint, integer, libraryValue, text } from './kinds.js'
import { Group, configFlag, curveSecretFlag, executorFlags, httpFlag, logLevelFlag, loggerOption, replyOption, serverKeyFlag, workerSettings } from './shared.js'
import { defineSchema } from './types.js'


export const workerSchema = defineSchema({
  gateway: {
    flag: 'gateway',
    short: 'g',
    kind: endpoint('connect'),
    required: true,
    help: "the gateway's worker port (its --workers-bind)",
    group: Group.endpoints,
  },
  id: {
    flag: 'id',
    kind: text('<id>', { minBytes: 1, maxBytes: Limits.workerBytes }),
    defaultText: 'host-pid-random',
    help: 'worker id, unique per gateway',
    group: Group.endpoints,
  },
  ...httpFlag('/metrics'),
  ...executorFlags,
  // The library takes a ready Executor; only the command line names a map or checks file.
  mapFile: { ...executorFlags.mapFile, cliOnly: true },
  checksFile: { ...executorFlags.checksFile, cliOnly: true },
  executor: {
    kind: libraryValue<Executor>('an executor function', (v) => typeof v === 'function'),
    required: true,
    help: 'runs one command',
  },
  ...workerSettings,
  reconnectMaxMs: {
    flag: 'reconnect-max',
    kind: integer(1),
    unit: 'ms',
    default: 32_000,
    help: 'longest pause between reconnects to a lost gateway (pauses double from one heartbeat)',
    group: Group.timing,
  },
  ...curveSecretFlag,
  ...serverKeyFlag,
  reply: replyOption('options of the reply-socket cache (sockets to clients)'),
  logger: loggerOption,
  logLevel: logLevelFlag('info'),
  config: configFlag('concurrency = 4096'),
})
