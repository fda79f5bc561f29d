/**
 * Public API of the command gateway: the three roles, the executor seam, the
 * errors, and the types a library user meets. The CLIs are thin wrappers over
 * these. Nothing else is exported: frames, codec, validators and socket
 * helpers are internals, imported from their own modules by the code (and the
 * tests) that need them. tests/unit/public-api.test.ts pins the list.
 */

// The client.
export { Client, clientDefaults, type ClientOptions, type ClientEvents, type ClientProgress, type CommandRecord, type CommandSource, type CommandInput } from './client/client.js'
export { formatSummary, type RunSummary, type OutcomeCounts, type LostBreakdown } from './client/summary.js'
export type { Outcome, StateCounts } from './client/outcomes.js'
export type { FailOnItem } from './client/fail-on.js'
export type { BadLine } from './data/bad-lines.js'

// The gateway, and its status view (what gateway-status prints).
export { Gateway, gatewayDefaults, type GatewayOptions, type GatewayEvents, type GatewayStats, type WorkerLossReason } from './gateway/gateway.js'
export { requestStatus, formatStatus, type GatewayStatus, type WorkerStatus, type StatusRequestOptions } from './gateway/status.js'

// The worker.
export { Worker, workerDefaults, type WorkerOptions, type WorkerEvents, type WorkerStats } from './worker/worker.js'
export type { ReplySocketsOptions } from './transport/reply-sockets.js'

// The executor seam and the built-in executor modules: the device map, and real checks.
export type { Executor, ExecutorContext, CreateExecutor, ExecutorSpec, CommandControl } from './executors/types.js'
export { loadExecutor, type LoadExecutorOptions } from './executors/load.js'
export { DEVICE_MAP_EXECUTOR, deviceMapSpec, CHECKS_EXECUTOR, checksSpec, type ChecksExecutorOptions } from './executors/spec.js'
// What a check answers (code 0): its value, whose `state` is the Nagios plugin API's 0-3.
export { CheckState, type CheckValue } from './executors/checks/types.js'
export { default as createDeviceMapExecutor, deviceMapExecutor, type DeviceMapExecutorOptions } from './executors/device-map.js'
export type { DeviceMap, DeviceEntry } from './data/device-map.js'

// Errors: branch on `code` (or the class), never on `message`.
export {
  GatewayError,
  ConfigError,
  InputError,
  SendError,
  UnknownCommandError,
  CommandTimeoutError,
  StatusError,
  type ConfigErrorCode,
  type InputErrorCode,
  type SendErrorCode,
} from './errors.js'

// CGP/1 as a library user meets it: outcome codes and rejection reasons.
export { ResultCode, type CommandOutcome, type RejectReason } from './protocol/types.js'

// Logging.
export { createLogger, type Logger, type LoggerOptions } from './log.js'
