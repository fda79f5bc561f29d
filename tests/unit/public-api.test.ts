/**
 * The public surface, pinned: what `import … from 'zmq-command-gateway'`
 * gives a user (the package's `exports`, that is dist/index.js and its
 * declarations). A name added to src/index.ts, internal or not, fails here
 * until it is added to these lists on purpose. Reads the build (npm test
 * builds first).
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** Every value the package exports, sorted. */
const RUNTIME_EXPORTS = [
  'CHECKS_EXECUTOR',
  'CheckState',
  'Client',
  'CommandTimeoutError',
  'ConfigError',
  'DEVICE_MAP_EXECUTOR',
  'Gateway',
  'GatewayError',
  'InputError',
  'ResultCode',
  'SendError',
  'StatusError',
  'UnknownCommandError',
  'Worker',
  'checksSpec',
  'clientDefaults',
  'createDeviceMapExecutor',
  'createLogger',
  'deviceMapExecutor',
  'deviceMapSpec',
  'formatStatus',
  'formatSummary',
  'gatewayDefaults',
  'loadExecutor',
  'requestStatus',
  'workerDefaults',
]

/** Every type-only name the declarations export, sorted. */
const TYPE_EXPORTS = [
  'BadLine',
  'CheckValue',
  'ChecksExecutorOptions',
  'ClientEvents',
  'ClientOptions',
  'ClientProgress',
  'CommandControl',
  'CommandInput',
  'CommandOutcome',
  'CommandRecord',
  'CommandSource',
  'ConfigErrorCode',
  'CreateExecutor',
  'DeviceEntry',
  'DeviceMap',
  'DeviceMapExecutorOptions',
  'Executor',
  'ExecutorContext',
  'ExecutorSpec',
  'FailOnItem',
  'GatewayEvents',
  'GatewayOptions',
  'GatewayStats',
  'GatewayStatus',
  'InputErrorCode',
  'LoadExecutorOptions',
  'Logger',
  'LoggerOptions',
  'LostBreakdown',
  'Outcome',
  'OutcomeCounts',
  'RejectReason',
  'ReplySocketsOptions',
  'RunSummary',
  'SendErrorCode',
  'StateCounts',
  'StatusRequestOptions',
  'WorkerEvents',
  'WorkerLossReason',
  'WorkerOptions',
  'WorkerStats',
  'WorkerStatus',
]

/** Where the package name resolves from inside the package (Node's self-reference). */
function packageEntry(condition: 'import' | 'types'): string {
  const manifest = createRequire(import.meta.url)(`${ROOT}package.json`) as { exports: { '.': { default: string; types: string } } }
  const entry = manifest.exports['.'][condition === 'types' ? 'types' : 'default']
  const path = fileURLToPath(new URL(entry, `file://${ROOT}`))
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build first`)
  return path
}

describe('the public API of zmq-command-gateway', () => {
  it('exports exactly the roles, executor modules, errors and helpers, and no internal value', async () => {
    packageEntry('import')
    // By name, as a user imports it: this resolves through package.json `exports`.
    const api = (await import('zmq-command-gateway')) as Record<string, unknown>
    expect(Object.keys(api).sort()).toEqual(RUNTIME_EXPORTS)
  })

  it('the values are what their names promise', async () => {
    const api = await import('zmq-command-gateway')
    for (const role of [api.Client, api.Gateway, api.Worker]) expect(typeof role).toBe('function')
    for (const error of [api.ConfigError, api.InputError, api.SendError, api.UnknownCommandError, api.CommandTimeoutError, api.StatusError]) {
      expect(Object.getPrototypeOf(error)).toBe(api.GatewayError)
    }
    expect(api.ResultCode).toEqual({ Ok: 0, Unknown: 1, Failed: 2, Timeout: 3, Cancelled: 4 })
    expect(api.deviceMapSpec('devices.txt')).toEqual({ module: api.DEVICE_MAP_EXECUTOR, options: { file: 'devices.txt' } })
    expect(api.CHECKS_EXECUTOR).toBe('checks')
    expect(api.checksSpec('checks.toml')).toEqual({ module: 'checks', options: { file: 'checks.toml' } })
    expect(api.checksSpec('checks.toml', 'devices.txt')).toEqual({ module: 'checks', options: { file: 'checks.toml', map: 'devices.txt' } })
    expect(api.CheckState).toEqual({ Ok: 0, Warning: 1, Critical: 2, Unknown: 3 })
    expect(new api.CommandTimeoutError('10.0.0.1', 'ssh', 3000).code).toBe('ERR_COMMAND_TIMEOUT')
    expect(api.clientDefaults.batchSize).toBe(16)
    expect(api.gatewayDefaults.bind).toBe('tcp://127.0.0.1:5557')
    expect(api.workerDefaults.capacity).toBe(64)
  })

  it('declares exactly those values and the public types, and no internal type', () => {
    const path = packageEntry('types')
    const program = ts.createProgram([path], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, skipLibCheck: true })
    const checker = program.getTypeChecker()
    const symbol = checker.getSymbolAtLocation(program.getSourceFile(path)!)
    expect(symbol).toBeDefined()
    const names = checker.getExportsOfModule(symbol!).map((s) => s.name)
    expect(names.filter((name) => !RUNTIME_EXPORTS.includes(name)).sort()).toEqual(TYPE_EXPORTS)
    expect(RUNTIME_EXPORTS.filter((name) => !names.includes(name))).toEqual([])
  })
})
