/**
 * The README's option tables are generated from the schemas; they must be
 * what `npm run docs:options` would write now, and the README's example
 * config file must be one run-server accepts.
 */
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readConfigFile } from '../../src/options/config-file.js'
import { optionsTable, renderReadme } from '../../src/options/docs.js'
import { gatewaySchema } from '../../src/options/gateway.js'
import { cliSchemas } from '../../src/options/roles.js'

const README = new URL('../../README.md', import.meta.url)

describe('the README option tables', () => {
  it.each(Object.keys(cliSchemas))('%s: the marked table is the generated one (npm run docs:options)', async (command) => {
    const readme = await readFile(README, 'utf8')
    const open = `<!-- options:${command} -->\n`
    const start = readme.indexOf(open)
    const end = readme.indexOf(`<!-- /options:${command} -->`)
    expect(start).toBeGreaterThan(-1)
    expect(readme.slice(start + open.length, end)).toBe(`${optionsTable(cliSchemas[command as keyof typeof cliSchemas])}\n`)
  })

  it('rendering the README again changes nothing', async () => {
    const readme = await readFile(README, 'utf8')
    expect(renderReadme(readme)).toBe(readme)
  })

  it('a row shows flag, variable, default and bounds', () => {
    expect(optionsTable(gatewaySchema)).toContain('| `--heartbeat-liveness <n>` | `CGW_HEARTBEAT_LIVENESS` | 3 | silent heartbeat intervals after which the other end counts as lost; 1–1000 |')
    expect(optionsTable(cliSchemas['run-client'])).toContain('| `--progress` / `--no-progress` | `CGW_PROGRESS` | on when stderr is a terminal |')
  })

  it('the example config file is one run-server accepts', async () => {
    const readme = await readFile(README, 'utf8')
    // The config-file example, by its first line (the checks file of "Real checks" is TOML too).
    const example = /```toml\n(# gateway\.toml[\s\S]*?)```/.exec(readme)?.[1]
    expect(example).toContain('heartbeat-liveness')
    const dir = await mkdtemp(join(tmpdir(), 'cgw-readme-'))
    try {
      await writeFile(join(dir, 'gateway.toml'), example!)
      expect(readConfigFile(gatewaySchema, join(dir, 'gateway.toml'), 'run-server')).toMatchObject({ maxWorkers: 8, heartbeatLiveness: 5 })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
