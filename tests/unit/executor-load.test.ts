/**
 * The executor module loader (loadExecutor): which module a name means, what
 * its default export must be, and how every failure reads. Modules are real
 * files written per test (and one real package in a node_modules of its own).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { checkExecutorSpec, loadExecutor, resolveExecutorModule } from '../../src/executors/load.js'
import { deviceMapSpec } from '../../src/executors/spec.js'
import { ConfigError } from '../../src/errors.js'
import { fixtures, type Fixtures } from '../helpers/data.js'

let files: Fixtures
const context = { workerId: 'w-load', logger: pino({ level: 'silent' }) }
const signal = new AbortController().signal

beforeEach(async () => {
  files = await fixtures()
})

afterEach(async () => {
  await files.remove()
})

/** Writes an executor module into the test's directory; returns its name there. */
async function moduleFile(name: string, source: string): Promise<string> {
  await files.write(name, [source])
  return name
}

describe('a built-in executor name', () => {
  it('device-map loads the simulated devices of the map file its options name', async () => {
    const map = await files.write('map.txt', ['10.0.0.1:foo:7:0'])
    const executor = await loadExecutor(deviceMapSpec(map), context)
    expect(await executor('10.0.0.1', 'foo', signal)).toBe(7)
    await expect(executor('10.0.0.1', 'bar', signal)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_COMMAND' })
  })

  it('device-map without a file is ERR_EXECUTOR naming the module', async () => {
    const loading = loadExecutor({ module: 'device-map' }, context)
    await expect(loading).rejects.toBeInstanceOf(ConfigError)
    await expect(loading).rejects.toMatchObject({ code: 'ERR_EXECUTOR', message: expect.stringMatching(/^executor module "device-map": .*options\.file/) })
  })

  it('device-map with a file that cannot be read is ERR_EXECUTOR, with the file error as its cause', async () => {
    const loading = loadExecutor(deviceMapSpec(join(files.dir, 'missing.txt')), context)
    await expect(loading).rejects.toMatchObject({ code: 'ERR_EXECUTOR', cause: { code: 'ERR_INPUT_UNREADABLE' } })
  })
})

describe('a file path', () => {
  it('is resolved from the working directory: the fixture module makes an executor with its options and the context', async () => {
    const executor = await loadExecutor({ module: 'tests/fixtures/tagging-executor.mjs', options: { tag: 'T-1' } }, context)
    expect(await executor('10.0.0.1', 'foo', signal)).toBe(`T-1|w-load|${process.pid}|10.0.0.1|foo`)
  })

  it('is resolved from the cwd given, whether it starts with ./ or not; a promise of an executor is awaited', async () => {
    const source = 'export default async (options, context) => async (address) => `${options.n}:${context.workerId}:${address}`'
    await moduleFile('promised.mjs', source)
    for (const module of ['promised.mjs', './promised.mjs', join(files.dir, 'promised.mjs')]) {
      const executor = await loadExecutor({ module, options: { n: 3 } }, context, { cwd: files.dir })
      expect(await executor('a', 'foo', signal)).toBe('3:w-load:a')
    }
  })

  it('maps to a file URL, a package name stays a package', () => {
    expect(resolveExecutorModule('lib/x.mjs', '/srv/app')).toBe(pathToFileURL('/srv/app/lib/x.mjs').href)
    expect(resolveExecutorModule('../x.js', '/srv/app')).toBe(pathToFileURL('/srv/x.js').href)
    expect(resolveExecutorModule('/opt/x.mjs', '/srv/app')).toBe(pathToFileURL('/opt/x.mjs').href)
    expect(resolveExecutorModule('no-such-package-anywhere', '/srv/app')).toBe('no-such-package-anywhere')
  })

  it('that does not exist is ERR_EXECUTOR naming the module, with the import error as its cause', async () => {
    const loading = loadExecutor({ module: 'nowhere/missing.mjs' }, context, { cwd: files.dir })
    await expect(loading).rejects.toMatchObject({
      code: 'ERR_EXECUTOR',
      message: expect.stringMatching(/^executor module "nowhere\/missing\.mjs": cannot be imported: /),
      cause: expect.any(Error),
    })
  })
})

describe('a package name', () => {
  it('is resolved from the working directory, as the project that runs the gateway installed it', async () => {
    const dir = join(files.dir, 'node_modules', 'tagger-pkg')
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'tagger-pkg', type: 'module', exports: './index.js' }))
    await writeFile(join(dir, 'index.js'), 'export default (options) => async (address) => `pkg:${options.tag}:${address}`\n')
    const executor = await loadExecutor({ module: 'tagger-pkg', options: { tag: 'p' } }, context, { cwd: files.dir })
    expect(await executor('a', 'foo', signal)).toBe('pkg:p:a')
  })

  it('that is not installed is ERR_EXECUTOR naming it', async () => {
    const loading = loadExecutor({ module: 'cgw-no-such-executor-package' }, context, { cwd: files.dir })
    await expect(loading).rejects.toMatchObject({ code: 'ERR_EXECUTOR', message: expect.stringMatching(/^executor module "cgw-no-such-executor-package": cannot be imported/) })
  })
})

describe('a module whose default export is not createExecutor', () => {
  it.each([
    ['export default 42', /found a number$/],
    ['export default { run() {} }', /found an object$/],
    ['export function createExecutor() {}', /found nothing \(undefined\) \(its named exports: createExecutor\)$/],
  ])('%s is ERR_EXECUTOR saying what was found', async (source, found) => {
    const module = await moduleFile('bad-default.mjs', source)
    const loading = loadExecutor({ module }, context, { cwd: files.dir })
    await expect(loading).rejects.toMatchObject({
      code: 'ERR_EXECUTOR',
      message: expect.stringMatching(/^executor module "bad-default\.mjs": its default export must be createExecutor\(options, context\), a function; /),
    })
    await expect(loading).rejects.toThrow(found)
  })

  it('returning something other than a function is ERR_EXECUTOR saying what it returned', async () => {
    const module = await moduleFile('returns-object.mjs', 'export default () => ({ run: async () => 1 })')
    await expect(loadExecutor({ module }, context, { cwd: files.dir })).rejects.toMatchObject({
      code: 'ERR_EXECUTOR',
      message: expect.stringMatching(/createExecutor must return an executor.*it returned an object$/),
    })
  })
})

describe('a createExecutor that fails', () => {
  it.each([
    ['throws', 'export default () => { throw new Error("no licence") }'],
    ['rejects', 'export default async () => { throw new Error("no licence") }'],
  ])('(it %s) is ERR_EXECUTOR naming the module, with its error as the cause', async (_how, source) => {
    const module = await moduleFile('failing.mjs', source)
    const loading = loadExecutor({ module }, context, { cwd: files.dir })
    await expect(loading).rejects.toMatchObject({
      code: 'ERR_EXECUTOR',
      message: 'executor module "failing.mjs": createExecutor failed: no licence',
      cause: { message: 'no licence' },
    })
  })

  it('at import time (a throw in the module body) is ERR_EXECUTOR too', async () => {
    const module = await moduleFile('throws-on-import.mjs', 'throw new Error("broken install")\nexport default () => () => 1')
    await expect(loadExecutor({ module }, context, { cwd: files.dir })).rejects.toMatchObject({
      code: 'ERR_EXECUTOR',
      message: 'executor module "throws-on-import.mjs": cannot be imported: broken install',
    })
  })
})

describe('checkExecutorSpec, what a gateway checks before it forks anything', () => {
  it('a module file that is not there is ERR_EXECUTOR naming the module and the path', async () => {
    const error = await checkExecutorSpec({ module: './nowhere.mjs' }, { cwd: files.dir }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ code: 'ERR_EXECUTOR' })
    expect((error as Error).message).toContain('executor module "./nowhere.mjs": file')
    expect((error as Error).message).toContain(join(files.dir, 'nowhere.mjs'))
  })

  it('a device map that is not there is ERR_EXECUTOR naming the map', async () => {
    const error = await checkExecutorSpec(deviceMapSpec('gone.txt'), { cwd: files.dir }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_EXECUTOR' })
    expect((error as Error).message).toContain(`device map ${join(files.dir, 'gone.txt')} cannot be read`)
  })

  it('passes a module file and a device map that are there, without importing the module', async () => {
    // A module that would throw if imported: the check must not run user code.
    const name = await moduleFile('throws-on-import.mjs', 'throw new Error("imported")')
    await expect(checkExecutorSpec({ module: `./${name}` }, { cwd: files.dir })).resolves.toBeUndefined()
    await files.write('map.txt', ['10.0.0.1:ping:1:0'])
    await expect(checkExecutorSpec(deviceMapSpec('map.txt'), { cwd: files.dir })).resolves.toBeUndefined()
  })

  it('leaves a package name to the workers', async () => {
    await expect(checkExecutorSpec({ module: 'no-such-package-cgw' }, { cwd: files.dir })).resolves.toBeUndefined()
  })
})
