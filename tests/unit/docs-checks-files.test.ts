/**
 * The checks files the docs show are files the checks parser accepts, with
 * the checks, targets and limits their comments describe: the README's
 * minimal one (Real checks) and the production one of docs/OPERATIONS.md.
 * Their exec programs are Debian's monitoring-plugins-basic, which CI installs.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseChecksText } from '../../src/executors/checks/file.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** The body of the ```toml block of `doc` whose first line is `firstLine`. */
async function tomlBlock(doc: string, firstLine: string): Promise<string> {
  const text = await readFile(`${ROOT}${doc}`, 'utf8')
  for (const match of text.matchAll(/```toml\n([\s\S]*?)```/g)) if (match[1]!.startsWith(`${firstLine}\n`)) return match[1]!
  throw new Error(`${doc} has no toml block starting with ${firstLine}`)
}

describe('the checks files in the docs', () => {
  it("README's: a tcp, an http and an exec check, 10 s and 4 per target, the http one at 3 s", async () => {
    const config = parseChecksText(await tomlBlock('README.md', '# checks.toml'), 'checks.toml')
    expect(config.targets).toEqual(['10.20.0.0/16', '*.dc1.example'])
    expect([...config.checks.keys()]).toEqual(['ssh', 'web', 'pgsql'])
    expect(config.checks.get('ssh')).toMatchObject({ kind: 'tcp', port: 22, limits: { timeoutMs: 10_000, perTarget: 4 } })
    expect(config.checks.get('web')).toMatchObject({ kind: 'http', url: 'http://{address}:8080/health', expect: 'default', limits: { timeoutMs: 3000 } })
    expect(config.checks.get('pgsql')).toMatchObject({ kind: 'exec', argv: ['/usr/lib/nagios/plugins/check_tcp', '-H', '{address}', '-p', '5432'] })
  })

  it("OPERATIONS.md's: Debian plugins by absolute path, each plugin's -t below the check's timeout", async () => {
    const config = parseChecksText(await tomlBlock('docs/OPERATIONS.md', '# /etc/cgw/dc1.toml: the checks of site dc1 (owned by root, not writable by the workers\' user)'), '/etc/cgw/dc1.toml')
    expect(config.targets).toEqual(['10.20.0.0/16', '2001:db8:20::/48'])
    expect([...config.checks.keys()]).toEqual(['ping', 'ssh', 'pgsql', 'cert'])
    for (const check of config.checks.values()) {
      expect(check.limits).toEqual({ timeoutMs: 15_000, perTarget: 2, rate: { count: 10, intervalMs: 1000 } })
      if (check.kind !== 'exec') throw new Error(`${check.name} is not an exec check`)
      expect(check.argv[0]).toMatch(/^\/usr\/lib\/nagios\/plugins\/check_\w+$/)
      const t = check.argv.indexOf('-t')
      expect(Number(check.argv[t + 1]) * 1000).toBeLessThan(check.limits.timeoutMs)
    }
  })
})
