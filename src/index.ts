/**
 * Public API of the command gateway. The CLIs are thin wrappers over these.
 */
export { Client, clientDefaults, type ClientOptions, type ClientEvents, type ClientProgress, type CommandRecord, type CommandSource, type CommandInput } from './client/client.js'
export { formatSummary, type RunSummary, type LostBreakdown } from './client/summary.js'
export { requestStatus, formatStatus, StatusError, type GatewayStatus, type WorkerStatus } from './gateway/status.js'
export { Gateway, gatewayDefaults, type GatewayOptions, type GatewayEvents, type GatewayStats, type WorkerLossReason } from './gateway/gateway.js'
export { Worker, workerDefaults, type WorkerOptions, type WorkerEvents, type WorkerStats } from './worker/worker.js'
export { deviceMapExecutor, type Executor } from './worker/executor.js'
export { loadDeviceMap, parseDeviceLine, DeviceMap, type DeviceEntry, type LoadDeviceMapOptions } from './data/device-map.js'
export { readCommands, parseCommandLine, type CommandLine, type ReadCommandsOptions } from './data/commands-file.js'
export { formatBadLine, type BadLine } from './data/bad-lines.js'
export { ReplySockets, replySocketsDefaults, type ReplySocketsOptions } from './transport/reply-sockets.js'
export {
  ConfigError,
  InputError,
  SendError,
  UnknownCommandError,
  type ConfigErrorCode,
  type InputErrorCode,
  type SendErrorCode,
} from './errors.js'
export { encode, decodeUntrusted } from './protocol/codec.js'
export { Limits } from './protocol/limits.js'
export * from './protocol/types.js'
export * from './protocol/frames.js'
export {
  validateIntakeHeader,
  validateClientInboundHeader,
  validateWorkerHeader,
  validateGatewayHeader,
  type Validated,
} from './protocol/validate.js'
export { scanMsgpack, scanCommandPairs } from './protocol/msgpack-scan.js'
export { createLogger, type Logger, type LoggerOptions } from './log.js'
