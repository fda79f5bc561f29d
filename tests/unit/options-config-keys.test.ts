/**
 * A config-file key that is not a long flag: the message points to the flag
 * that was meant, however it was spelled, and `config` itself is refused as
 * what it is (a file cannot name another).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readConfigFile } from '../../src/options/config-file.js'
import { gatewaySchema } from '../../src/options/gateway.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cgw-config-keys-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function refusal(text: string): Promise<string> {
  const path = join(dir, 'gateway.toml')
  await writeFile(path, text)
  try {
    readConfigFile(gatewaySchema, path, 'run-server')
  } catch (error) {
    return `${(error as Error).message}`.replace(path, 'gateway.toml')
  }
  throw new Error('expected the file to be refused')
}

describe('a key spelled another way than the long flag', () => {
  it.each([
    ['maxWorkers = 2', 'max-workers'],
    ['commandTimeout = 5', 'command-timeout'],
    ['max_workers = 2', 'max-workers'],
    ['CGW_MAX_WORKERS = 2', 'max-workers'],
    ['heartbeatIntervalMs = 100', 'heartbeat'],
  ])('%s: did you mean %s?', async (line, flag) => {
    expect(await refusal(`${line}\n`)).toContain(`gateway.toml:1: unknown key "${line.split(' ')[0]}" = ${line.split(' = ')[1]} (did you mean ${flag}?)`)
  })

  it('config itself cannot be set in a config file', async () => {
    expect(await refusal('config = "other.toml"\n')).toBe('gateway.toml:1: unknown key "config" = "other.toml": a config file cannot set config (give --config or CGW_CONFIG)')
  })
})
