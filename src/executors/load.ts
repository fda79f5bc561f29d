/**
 * Turns an {@link ExecutorSpec} into an {@link Executor}, in whichever process
 * runs commands (a forked worker, `run-worker`, a library `Worker`). Every
 * failure, whatever threw it, becomes one {@link ConfigError}
 * `ERR_EXECUTOR` that names the module and carries the cause: a forked
 * worker logs that one line and exits, and a CLI prints it and exits 2.
 */
import { access, constants } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ConfigError, errorMessage } from '../errors.js'
import { readChecksFile } from './checks/file.js'
import { CHECKS_EXECUTOR, DEVICE_MAP_EXECUTOR } from './spec.js'
import type { CreateExecutor, Executor, ExecutorContext, ExecutorSpec } from './types.js'

/** Built-in executor modules, by name. Literal imports, so bundlers and test runners see them. */
const BUILT_IN: ReadonlyMap<string, () => Promise<unknown>> = new Map<string, () => Promise<unknown>>([
  [DEVICE_MAP_EXECUTOR, () => import('./device-map.js')],
  [CHECKS_EXECUTOR, () => import('./checks/index.js')],
])

export interface LoadExecutorOptions {
  /**
   * Where relative file paths and package names are resolved from.
   * @default process.cwd()
   */
  readonly cwd?: string
}

/**
 * The import specifier for an executor `module` that is not a built-in name
 * (`device-map`, imported from this package):
 * - a `file:` URL, an absolute path, a path starting with `.`, or any name
 *   ending in `.js`, `.mjs` or `.cjs`: a file, relative to `cwd`
 *   (`tests/fixtures/tagging-executor.mjs` is a file);
 * - anything else (`my-checks`, `@acme/checks`): a package. It is resolved
 *   from `cwd` first, as the project that runs the gateway has it installed,
 *   and failing that from this package's own installation.
 *
 * @example
 * resolveExecutorModule('lib/my-executor.mjs', '/srv/app') // 'file:///srv/app/lib/my-executor.mjs'
 */
export function resolveExecutorModule(module: string, cwd: string = process.cwd()): string {
  if (module.startsWith('file:')) return module
  if (isFilePath(module)) return pathToFileURL(isAbsolute(module) ? module : resolve(cwd, module)).href
  try {
    // CommonJS resolution (the only kind Node 20 offers from another directory without a
    // flag); a package it cannot resolve, say one exporting only `import`, is left to import().
    return pathToFileURL(createRequire(join(cwd, 'noop.js')).resolve(module)).href
  } catch {
    return module
  }
}

function isFilePath(module: string): boolean {
  return isAbsolute(module) || module.startsWith('.') || /\.[cm]?js$/.test(module)
}

/**
 * Imports `spec.module`, calls its default export `createExecutor(spec.options,
 * context)` and returns the executor it made (awaited when it is a promise).
 * Throws {@link ConfigError} `ERR_EXECUTOR` naming the module when the import
 * fails, the default export is not a function, `createExecutor` throws or
 * rejects, or what it returns is not a function.
 *
 * @example
 * const executor = await loadExecutor({ module: 'lib/my-executor.mjs', options: { prefix: 'x' } }, { workerId, logger })
 */
export async function loadExecutor(spec: ExecutorSpec, context: ExecutorContext, options: LoadExecutorOptions = {}): Promise<Executor> {
  const name = JSON.stringify(spec.module)
  const fail = (what: string, cause?: unknown): ConfigError =>
    new ConfigError('ERR_EXECUTOR', `executor module ${name}: ${what}`, cause === undefined ? undefined : { cause })
  if (typeof spec.module !== 'string' || spec.module.length === 0) throw fail('module must be a non-empty string')
  let namespace: Record<string, unknown>
  try {
    const builtIn = BUILT_IN.get(spec.module)
    namespace = (await (builtIn !== undefined ? builtIn() : import(resolveExecutorModule(spec.module, options.cwd)))) as Record<string, unknown>
  } catch (error) {
    throw fail(`cannot be imported: ${errorMessage(error)}`, error)
  }
  const create = namespace.default
  if (typeof create !== 'function') {
    const named = Object.keys(namespace).filter((key) => key !== 'default')
    const also = named.length > 0 ? ` (its named exports: ${named.join(', ')})` : ''
    throw fail(`its default export must be createExecutor(options, context), a function; found ${describe(create)}${also}`)
  }
  let executor: unknown
  try {
    executor = await (create as CreateExecutor)(spec.options, context)
  } catch (error) {
    throw fail(`createExecutor failed: ${errorMessage(error)}`, error)
  }
  if (typeof executor !== 'function') {
    throw fail(`createExecutor must return an executor, (address, command, signal) => Promise; it returned ${describe(executor)}`)
  }
  return executor as Executor
}

/**
 * Fails early, in a process that forks workers rather than running commands,
 * on what a forked worker would otherwise find only after its fork, and then
 * again with every re-fork: a module file or a device map that is not there,
 * or a checks file with a mistake (its {@link ConfigError} `ERR_CHECKS_FILE`
 * is thrown as it is). It imports nothing, so no user code runs in the gateway. A package name is
 * left to the workers (its resolution can depend on conditions only `import()` sees).
 */
export async function checkExecutorSpec(spec: ExecutorSpec, options: LoadExecutorOptions = {}): Promise<void> {
  const name = JSON.stringify(spec.module)
  const readable = async (path: string, what: string): Promise<void> => {
    try {
      await access(path, constants.R_OK)
    } catch (error) {
      throw new ConfigError('ERR_EXECUTOR', `executor module ${name}: ${what} ${path} cannot be read: ${errorMessage(error)}`, { cause: error })
    }
  }
  if (typeof spec.module !== 'string' || spec.module.length === 0) {
    throw new ConfigError('ERR_EXECUTOR', `executor module ${name}: module must be a non-empty string`)
  }
  if (spec.module === DEVICE_MAP_EXECUTOR) {
    const file = (spec.options as { file?: unknown } | null | undefined)?.file
    if (typeof file !== 'string') throw new ConfigError('ERR_EXECUTOR', `executor module ${name}: options.file must be the path of a device map`)
    return readable(resolve(options.cwd ?? process.cwd(), file), 'device map')
  }
  if (spec.module === CHECKS_EXECUTOR) {
    const { file, map } = (spec.options ?? {}) as { file?: unknown; map?: unknown }
    if (typeof file !== 'string') throw new ConfigError('ERR_EXECUTOR', `executor module ${name}: options.file must be the path of a checks file`)
    if (map !== undefined && typeof map !== 'string') throw new ConfigError('ERR_EXECUTOR', `executor module ${name}: options.map must be the path of a device map`)
    if (map !== undefined) await readable(resolve(options.cwd ?? process.cwd(), map), 'device map')
    // Parsing is all this does (exec programs are stat'ed, not run), and its ERR_CHECKS_FILE
    // message, naming the file, the check and the value, is the one to show as it is.
    await readChecksFile(file, options.cwd === undefined ? {} : { cwd: options.cwd })
    return
  }
  if (BUILT_IN.has(spec.module)) return
  const specifier = resolveExecutorModule(spec.module, options.cwd)
  if (specifier.startsWith('file:') && isFilePath(spec.module)) await readable(fileURLToPath(specifier), 'file')
}

/** What a value is, for an error message: never the value itself, which may be large or secret. */
function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'undefined') return 'nothing (undefined)'
  return `a ${typeof value}`
}
