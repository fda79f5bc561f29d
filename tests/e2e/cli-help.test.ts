/**
 * `--help` as a newcomer reads it: the examples of the environment and the
 * config file name an option the command has (a copied `CGW_BATCH_SIZE=64
 * run-server` would silently do nothing), and durations show their unit.
 */
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { envNamesOf } from '../../src/options/cli.js'
import { flaggedEntries } from '../../src/options/flags.js'
import { cliSchemas, type CommandName } from '../../src/options/roles.js'
import { ROOT, runCli } from '../helpers/processes.js'

/** The help text with commander's line wrapping undone. */
async function help(name: Parameters<typeof runCli>[0]): Promise<string> {
  const { code, stdout } = await runCli(name, ['--help'])
  expect(code).toBe(0)
  return stdout.replace(/\s+/g, ' ')
}

describe('the examples of where options come from', () => {
  it.each(Object.keys(cliSchemas) as CommandName[])('%s --help: the CGW_ and config-file examples are its own options', async (command) => {
    const schema = cliSchemas[command]
    const flags = new Set(flaggedEntries(schema).map(([, spec]) => spec.flag))
    const text = await help(command)
    const variable = /snake case \((CGW_[A-Z_]+)=/.exec(text)?.[1]
    const key = /keyed by the long flag \(([a-z-]+) = /.exec(text)?.[1]
    const configKey = /--config <file> read options from this TOML file \(keys are the long flags: ([a-z-]+) = /.exec(text)?.[1]
    expect(envNamesOf(schema)).toContain(variable)
    expect(flags).toContain(key)
    expect(flags).toContain(configKey)
  })
})

describe('durations show their unit', () => {
  it.each<[Parameters<typeof runCli>[0], string]>([
    ['run-server', '--heartbeat <ms> heartbeat interval between gateway and worker (≥ 10, default: 1000 ms)'],
    ['run-client', '--retry-delay <ms> how long each send attempt waits (default: 1000 ms)'],
    ['run-worker', '--reconnect-max <ms> longest pause between reconnects to a lost gateway (pauses double from one heartbeat) (default: 32000 ms)'],
    ['gateway-status', '--timeout <ms> give up after this long without an answer (default: 3000 ms)'],
  ])('%s: %s', async (command, line) => {
    expect(await help(command)).toContain(line)
  })

  it('a minute-sized default keeps its reading in minutes', async () => {
    expect(await help('run-server')).toContain('(default: 60000 ms (1 min))')
  })
})

describe('every command groups its options and shows examples', () => {
  /** The help text cut into its sections, by heading (`Examples:`, `Timing:`, …). */
  function sections(text: string): Map<string, string> {
    const out = new Map<string, string>()
    let heading = ''
    for (const line of text.split('\n')) {
      if (/^[A-Z][A-Za-z ()]*:$/.test(line)) heading = line
      else out.set(heading, `${out.get(heading) ?? ''}${line}\n`)
    }
    return out
  }

  it.each(Object.keys(cliSchemas) as CommandName[])('%s --help lists each option under its schema group', async (command) => {
    const { code, stdout } = await runCli(command, ['--help'])
    expect(code).toBe(0)
    const parts = sections(stdout)
    const grouped = flaggedEntries(cliSchemas[command]).filter(([, spec]) => spec.group !== undefined)
    // Only the general flags stay under commander's own Options: heading.
    const ungrouped = flaggedEntries(cliSchemas[command]).filter(([, spec]) => spec.group === undefined)
    expect(ungrouped.map(([, spec]) => spec.flag).filter((flag) => flag !== 'config' && flag !== 'log-level')).toEqual([])
    for (const [, spec] of grouped) expect(parts.get(spec.group!), `--${spec.flag} under ${spec.group}`).toMatch(new RegExp(`--${spec.flag}\\b`))
    expect(parts.get('Examples:')).toMatch(/\$ /)
  })

  it('gateway-keygen --help has an Examples section (it has no options to group)', () => {
    const stdout = execFileSync(process.execPath, [`${ROOT}bin/gateway-keygen.js`, '--help'], { encoding: 'utf8' })
    expect(sections(stdout).get('Examples:')).toMatch(/\$ gateway-keygen /)
  })
})
