/**
 * Where a command's options come from: flags (generated from the schema),
 * CGW_ variables, a TOML config file, and the precedence among them. Each
 * source checks values with the same kinds and names itself in the message.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from '@commander-js/extra-typings'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/errors.js'
import { resolveCli } from '../../src/options/cli.js'
import { clientSchema } from '../../src/options/client.js'
import { lineOfKey, readConfigFile } from '../../src/options/config-file.js'
import { readEnv } from '../../src/options/env.js'
import { executorFromFlags } from '../../src/options/executor.js'
import { addSchemaFlags, type FlagReader } from '../../src/options/flags.js'
import { gatewaySchema } from '../../src/options/gateway.js'
import { INVALID, endpoints, integer } from '../../src/options/kinds.js'
import { allEnvNames } from '../../src/options/roles.js'
import type { CliValues } from '../../src/options/types.js'
import { workerSchema } from '../../src/options/worker.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cgw-options-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function toml(text: string): Promise<string> {
  const path = join(dir, 'options.toml')
  await writeFile(path, text)
  return path
}

function flags<S extends typeof clientSchema>(values: CliValues<S>): FlagReader<S> {
  return { given: () => values }
}

function configError(run: () => unknown): ConfigError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error('expected a ConfigError, got none')
}

describe('kinds read text the way a flag or a variable gives it', () => {
  it.each([
    ['64', 64],
    [' 7 ', 7],
    ['0', INVALID],
    ['10001', INVALID],
    ['1e3', INVALID],
    ['lots', INVALID],
    ['', INVALID],
  ])('integer(1, 10000) reads %j as %s', (text, expected) => {
    expect(integer(1, 10_000).fromText(text)).toBe(expected)
  })

  it('an endpoint list reads commas or spaces, and refuses an empty list', () => {
    expect(endpoints().fromText('tcp://a:1,tcp://b:2 ipc:///tmp/c')).toEqual(['tcp://a:1', 'tcp://b:2', 'ipc:///tmp/c'])
    expect(endpoints().fromText(' ')).toBe(INVALID)
    expect(endpoints().fromValue('tcp://a:1')).toEqual(['tcp://a:1'])
  })
})

describe('generated commander flags', () => {
  function parse(argv: string[]): CliValues<typeof clientSchema> {
    const program = new Command('run-client').exitOverride().configureOutput({ writeErr: () => undefined })
    const reader = addSchemaFlags(program, clientSchema)
    program.parse(argv, { from: 'user' })
    return reader.given()
  }

  it('read every spelling back by the schema key, and only what was typed', () => {
    expect(parse(['-n', '64', '-s', 'tcp://a:1', 'tcp://b:2', '--no-progress', '--strict', '--retry-delay', '5'])).toEqual({
      batchSize: 64,
      servers: ['tcp://a:1', 'tcp://b:2'],
      progress: false,
      strict: true,
      retryDelayMs: 5,
    })
    expect(parse([])).toEqual({})
  })

  it('refuse a bad value naming the flag, the expected range and the value', () => {
    expect(() => parse(['--window', 'lots'])).toThrow(`option '--window <n>' argument 'lots' is invalid. expected an integer from 1 to 1000000, got "lots"`)
  })
})

describe('CGW_ environment variables', () => {
  it('set an option, named after its long flag', () => {
    expect(readEnv(clientSchema, { CGW_BATCH_SIZE: '64', CGW_SERVER: 'tcp://a:1,tcp://b:2', CGW_STRICT: 'true' }).values).toEqual({
      batchSize: 64,
      servers: ['tcp://a:1', 'tcp://b:2'],
      strict: true,
    })
  })

  it('an empty variable counts as unset', () => {
    expect(readEnv(clientSchema, { CGW_BATCH_SIZE: '' }).values).toEqual({})
  })

  it('a bad value is an error naming the variable, the range and the value', () => {
    const error = configError(() => readEnv(clientSchema, { CGW_BATCH_SIZE: '0' }))
    expect(error.code).toBe('ERR_INVALID_OPTION')
    expect(error.message).toBe('CGW_BATCH_SIZE must be an integer from 1 to 10000, got "0"')
  })

  it('warns about a CGW_ name no command knows, but not about the project\'s own or another command\'s', () => {
    const env = { CGW_BATCHSIZE: '64', CGW_CRASH_DIR: '/tmp/x', CGW_WORKER_CONFIG: '{}', CGW_QUEUE_LIMIT: '5', HOME: '/root' }
    expect(readEnv(clientSchema, env, allEnvNames).warnings).toEqual(['CGW_BATCHSIZE is not an option of any command; ignored'])
  })
})

describe('a TOML config file keyed by the long flags', () => {
  it('sets options, lists and JSON values included', async () => {
    const path = await toml('max-workers = 3\nbind = "tcp://127.0.0.1:*"\nstrict = true\n[executor-options]\nfile = "m.txt"\n')
    expect(readConfigFile(gatewaySchema, path, 'run-server')).toEqual({ maxWorkers: 3, bind: 'tcp://127.0.0.1:*', strict: true, executorOptions: { file: 'm.txt' } })
    const client = await toml('server = ["tcp://a:1", "tcp://b:2"]\n')
    expect(readConfigFile(clientSchema, client, 'run-client')).toEqual({ servers: ['tcp://a:1', 'tcp://b:2'] })
  })

  it.each([
    ['an unknown key', 'batch-size = 1\nfrobnicate = 2\n', ':2: unknown key "frobnicate" = 2'],
    ['the library\'s name of a flag', 'batchSize = 64\n', ':1: unknown key "batchSize" = 64 (did you mean batch-size?)'],
    ['config itself', 'config = "other.toml"\n', ':1: unknown key "config"'],
    ['a wrong type', '\n\nbatch-size = "64"\n', ':3: batch-size must be an integer from 1 to 10000, got "64"'],
    ['an out-of-range value', 'window = 0\n', ':1: window must be an integer from 1 to 1000000, got 0'],
    ['a bad endpoint in a list', 'server = ["tcp://a:1", "nope"]\n', ':1: server must be one or more of a connectable endpoint'],
    ['a table where a number goes', '[window]\nsize = 1\n', ':1: window must be an integer from 1 to 1000000, got {"size":1}'],
    ['a syntax error', 'batch-size = 1\nwindow = = 2\n', ':2:10: not valid TOML: invalid value'],
  ])('refuses %s naming the file, line, key and value', async (_, text, message) => {
    const path = await toml(text)
    const error = configError(() => readConfigFile(clientSchema, path, 'run-client'))
    expect(error.code).toBe('ERR_CONFIG_FILE')
    expect(error.message).toContain(`${path}${message}`)
  })

  it('an unreadable file names the file', () => {
    const missing = join(dir, 'missing.toml')
    const error = configError(() => readConfigFile(clientSchema, missing, 'run-client'))
    expect(error).toMatchObject({ code: 'ERR_CONFIG_FILE', message: expect.stringContaining(`cannot read config file ${missing}`) })
  })

  it('finds the line of a key however TOML quotes it', () => {
    expect(lineOfKey('# c\na = 1\n"b" = 2\n  [c]\n', 'b')).toBe(3)
    expect(lineOfKey('# c\na = 1\n"b" = 2\n  [c]\n', 'c')).toBe(4)
    expect(lineOfKey('ab = 1\n', 'a')).toBeUndefined()
  })
})

describe('precedence: flag, then environment, then config file, then default', () => {
  async function resolve(sources: { flag?: number; env?: number; config?: number }) {
    const path = await toml(sources.config === undefined ? '' : `batch-size = ${sources.config}\n`)
    return resolveCli(clientSchema, {
      command: 'run-client',
      flags: flags({ config: path, ...(sources.flag === undefined ? {} : { batchSize: sources.flag }) }),
      env: sources.env === undefined ? {} : { CGW_BATCH_SIZE: String(sources.env) },
    })
  }

  it('a flag wins over the environment and the config file', async () => {
    const { values, sources } = await resolve({ flag: 1, env: 2, config: 3 })
    expect(values.batchSize).toBe(1)
    expect(sources.batchSize).toBe('flag')
  })

  it('the environment wins over the config file', async () => {
    const { values, sources } = await resolve({ env: 2, config: 3 })
    expect(values.batchSize).toBe(2)
    expect(sources.batchSize).toBe('env')
  })

  it('the config file wins over the default', async () => {
    const { values, sources } = await resolve({ config: 3 })
    expect(values.batchSize).toBe(3)
    expect(sources.batchSize).toBe('config')
  })

  it('with no source a library option stays unset (the library applies its default), a command-line one gets its own', async () => {
    const { values, sources } = await resolve({})
    expect(values.batchSize).toBeUndefined()
    expect(values.logLevel).toBe('warn')
    expect(sources.logLevel).toBe('default')
  })

  it('the config file itself can come from CGW_CONFIG', async () => {
    const path = await toml('window = 9\n')
    expect(resolveCli(clientSchema, { command: 'run-client', flags: flags({}), env: { CGW_CONFIG: path } }).values.window).toBe(9)
  })

  it('a positional argument counts as a flag; given both ways it must agree', () => {
    const resolved = resolveCli(clientSchema, { command: 'run-client', flags: flags({}), positional: { batchSize: 8 }, env: { CGW_BATCH_SIZE: '2' } })
    expect(resolved.values.batchSize).toBe(8)
    const error = configError(() => resolveCli(clientSchema, { command: 'run-client', flags: flags({ batchSize: 4 }), positional: { batchSize: 8 }, env: {} }))
    expect(error.message).toBe('batch-size given twice: 8 and --batch-size 4')
  })

  it('a required option no source gives names its flag, variable and key', () => {
    const error = configError(() => resolveCli(workerSchema, { command: 'run-worker', flags: { given: () => ({}) }, env: {} }))
    expect(error.message).toBe('--gateway is required (or CGW_GATEWAY, or gateway = … in the --config file)')
  })
})

describe('executor flags', () => {
  it('--map is shorthand for the device-map executor; --executor takes JSON options', () => {
    expect(executorFromFlags({ mapFile: 'm.txt' }, { mapFile: 'flag' })).toEqual({ module: 'device-map', options: { file: 'm.txt' } })
    expect(executorFromFlags({ executorModule: './x.mjs', executorOptions: { tag: 1 } }, {})).toEqual({ module: './x.mjs', options: { tag: 1 } })
    expect(executorFromFlags({}, {})).toBeUndefined()
  })

  it('--map and --executor from one source are a usage error; from two, the higher source wins', () => {
    expect(() => executorFromFlags({ mapFile: 'm', executorModule: 'x' }, { mapFile: 'flag', executorModule: 'flag' })).toThrow(/give --map or --executor, not both/)
    expect(executorFromFlags({ mapFile: 'm', executorModule: 'x' }, { mapFile: 'flag', executorModule: 'config' })).toEqual({ module: 'device-map', options: { file: 'm' } })
    expect(executorFromFlags({ mapFile: 'm', executorModule: 'x' }, { mapFile: 'config', executorModule: 'env' })).toEqual({ module: 'x' })
  })

  it('--executor-options without --executor is a usage error', () => {
    expect(() => executorFromFlags({ executorOptions: {} }, {})).toThrow('--executor-options needs --executor MODULE')
  })
})
