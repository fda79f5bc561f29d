/**
 * `checksFile` / `--checks` through the option layers: the executor flags,
 * the gateway's library options, and what a gateway checks before it forks
 * (the checks file parsed, the map beside it readable), with the parser's
 * message kept whole.
 */
import { chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/errors.js'
import { checkExecutorSpec, loadExecutor } from '../../src/executors/load.js'
import { checksSpec } from '../../src/executors/spec.js'
import { Gateway } from '../../src/gateway/gateway.js'
import { resolveGatewayOptions } from '../../src/gateway/options.js'
import { createLogger } from '../../src/log.js'
import { executorFromFlags } from '../../src/options/executor.js'
import { fixtures, type Fixtures } from '../helpers/data.js'

let files: Fixtures
const context = { workerId: 'w-test', logger: createLogger({ level: 'silent' }) }

beforeEach(async () => {
  files = await fixtures()
})

afterEach(async () => {
  await files.remove()
})

const GOOD = ['targets = ["127.0.0.0/8"]', '[check.ssh]', 'tcp = 22']
const BAD = ['targets = ["127.0.0.0/8"]', '[check.web]', 'tcp = 80', 'timeout = "3x"']
const BAD_MESSAGE = 'check "web": timeout "3x" is not a duration (250ms, 3s, 1m)'

describe('the executor flags with --checks', () => {
  it('--checks alone is the checks executor; with --map, the map goes in its options', () => {
    expect(executorFromFlags({ checksFile: 'c.toml' }, { checksFile: 'flag' })).toEqual({ module: 'checks', options: { file: 'c.toml' } })
    expect(executorFromFlags({ checksFile: 'c.toml', mapFile: 'm.txt' }, { checksFile: 'flag', mapFile: 'env' })).toEqual({ module: 'checks', options: { file: 'c.toml', map: 'm.txt' } })
  })

  it('--checks with --executor from the same source is a usage error', () => {
    const error = (() => {
      try {
        executorFromFlags({ checksFile: 'c.toml', executorModule: './x.mjs' }, { checksFile: 'flag', executorModule: 'flag' })
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('give --checks or --executor, not both') as unknown })
  })

  it('from two sources, the higher-precedence one wins, and the loser takes its options along', () => {
    expect(executorFromFlags({ checksFile: 'c.toml', executorModule: './x.mjs', executorOptions: { a: 1 } }, { checksFile: 'flag', executorModule: 'config', executorOptions: 'config' })).toEqual(checksSpec('c.toml'))
    expect(executorFromFlags({ checksFile: 'c.toml', mapFile: 'm.txt', executorModule: './x.mjs' }, { checksFile: 'config', mapFile: 'config', executorModule: 'env' })).toEqual({ module: './x.mjs' })
  })
})

describe('the gateway library option checksFile', () => {
  it('stands for the checks executor, with mapFile beside it', () => {
    expect(resolveGatewayOptions({ checksFile: 'c.toml', mapFile: 'm.txt', maxWorkers: 1 }).executor).toEqual(checksSpec('c.toml', 'm.txt'))
    expect(resolveGatewayOptions({ checksFile: 'c.toml', maxWorkers: 1 })).not.toHaveProperty('checksFile')
  })

  it('excludes executor', () => {
    expect(() => resolveGatewayOptions({ checksFile: 'c.toml', executor: { module: './x.mjs' } })).toThrow('give executor or checksFile, not both')
  })

  it('with a mistake in the file, start() fails with the parser\'s error before anything binds', async () => {
    const file = await files.write('bad.toml', BAD)
    const gateway = new Gateway({ bind: 'tcp://127.0.0.1:*', checksFile: file, maxWorkers: 1 })
    try {
      await expect(gateway.start()).rejects.toMatchObject({ code: 'ERR_CHECKS_FILE', message: `${file}: ${BAD_MESSAGE}` })
      expect(gateway.workerPids).toEqual([])
    } finally {
      await gateway.close({ force: true })
    }
  })
})

describe('checkExecutorSpec for checks', () => {
  it('parses the file, relative to cwd, and throws its ERR_CHECKS_FILE as it is', async () => {
    await files.write('bad.toml', BAD)
    await expect(checkExecutorSpec(checksSpec('bad.toml'), { cwd: files.dir })).rejects.toMatchObject({ code: 'ERR_CHECKS_FILE', message: `bad.toml: ${BAD_MESSAGE}` })
  })

  it('refuses a map beside it that cannot be read, naming the map', async () => {
    await files.write('good.toml', GOOD)
    await expect(checkExecutorSpec(checksSpec('good.toml', 'gone.txt'), { cwd: files.dir })).rejects.toMatchObject({
      code: 'ERR_EXECUTOR',
      message: expect.stringContaining(`device map ${join(files.dir, 'gone.txt')} cannot be read`) as unknown,
    })
  })

  it('passes a good file and map, and runs no plugin to do so', async () => {
    // A plugin that would leave a mark if it ran.
    const plugin = await files.write('plugin.sh', ['#!/bin/sh', `touch ${join(files.dir, 'ran')}`])
    await chmod(plugin, 0o755)
    await files.write('good.toml', [...GOOD, '[check.p]', 'exec = ["./plugin.sh"]'])
    await files.write('map.txt', ['127.0.0.1:foo:1:0'])
    await expect(checkExecutorSpec(checksSpec('good.toml', 'map.txt'), { cwd: files.dir })).resolves.toBeUndefined()
    await expect(import('node:fs/promises').then((fs) => fs.access(join(files.dir, 'ran')))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('refuses options that are not a checks file path', async () => {
    await expect(checkExecutorSpec({ module: 'checks', options: {} })).rejects.toMatchObject({ code: 'ERR_EXECUTOR', message: expect.stringContaining('options.file') as unknown })
  })
})

describe('loadExecutor for checks', () => {
  it('may wrap a bad file as ERR_EXECUTOR, but its message still names the file, the check and the value', async () => {
    const file = await files.write('bad.toml', BAD)
    await expect(loadExecutor(checksSpec(file), context)).rejects.toMatchObject({ code: 'ERR_EXECUTOR', message: expect.stringContaining(`${file}: ${BAD_MESSAGE}`) as unknown })
  })

  it('makes an executor whose map pairs answer first and whose unknown checks are code 1', async () => {
    const file = await files.write('good.toml', GOOD)
    const map = await files.write('map.txt', ['8.8.8.8:ssh:9:0'])
    const executor = await loadExecutor(checksSpec(file, map), context)
    const signal = new AbortController().signal
    expect(await executor('8.8.8.8', 'ssh', signal)).toBe(9)
    await expect(executor('8.8.4.4', 'ssh', signal)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_COMMAND' })
    await expect(executor('127.0.0.1', 'nope', signal)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_COMMAND' })
    await executor.close?.()
  })
})
