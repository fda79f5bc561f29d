/**
 * The README's config-file example, its executor module and its override
 * line, run as a newcomer would paste them: the module serves every command
 * in the forked workers, and the variable and the flag win over the file.
 */
import { readFile } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fixtures, type Fixtures } from '../helpers/data.js'
import { ROOT, expectAllGone, freePort, runCli, startCli, waitFor, type RunningCli } from '../helpers/processes.js'
import { requestStatus } from '../../src/gateway/status.js'

let files: Fixtures
let started: RunningCli[] = []

beforeEach(async () => {
  files = await fixtures()
  started = []
})

afterEach(async () => {
  for (const cli of started) if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGINT')
  await expectAllGone(started.map((cli) => cli.pid), 10_000)
  await files.remove()
})

/** The body of the first fenced block of `language` whose text contains `marker`. */
function block(readme: string, language: string, marker: string): string {
  for (const match of readme.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))) if (match[1]!.includes(marker)) return match[1]!
  throw new Error(`README has no ${language} block with ${marker}`)
}

describe("the README's config file, executor module and override line", () => {
  it('run as printed, with a free port for the intake and the status', async () => {
    const readme = await readFile(`${ROOT}README.md`, 'utf8')
    await files.write('gateway.toml', [block(readme, 'toml', 'run-server --config gateway.toml').trimEnd()])
    await files.write('my-executor.mjs', [block(readme, 'js', 'my-executor.mjs').trimEnd()])
    const line = block(readme, 'sh', 'run-server --config gateway.toml').split('#')[0]!.trim()
    const [assignment, program, ...args] = line.split(/\s+/)
    expect(program).toBe('run-server')
    const [variable, value] = assignment!.split('=')
    const status = `tcp://127.0.0.1:${await freePort()}`
    // In the fixtures' directory, where gateway.toml and its ./my-executor.mjs are.
    const server = startCli('run-server', [...args, '-b', 'tcp://127.0.0.1:*', '--status', status, '--log-level', 'warn'], { cwd: files.dir, env: { [variable!]: value! } })
    started.push(server)
    await waitFor(() => server.stdout().includes('listening ') || server.child.exitCode !== null, 'run-server to listen')
    const endpoint = /listening (\S+)/.exec(server.stdout())?.[1]
    expect(endpoint, server.stderr()).toBeDefined()

    const { pool } = await requestStatus(status, 3000)
    expect(pool.max).toBe(2) // -w 2 over the file's max-workers = 8

    const commands = await files.write('commands.txt', ['10.0.0.1:foo', '10.0.0.2:bar'])
    const output = `${files.dir}/out.jsonl`
    const { code } = await runCli('run-client', [commands, '-b', 'tcp://127.0.0.1:*', '-s', endpoint!, '--output', output])
    expect(code).toBe(0)
    const values = (await readFile(output, 'utf8')).trimEnd().split('\n').map((record) => (JSON.parse(record) as { value: unknown }).value)
    expect(values).toEqual(['lab-10.0.0.1:foo', 'lab-10.0.0.2:bar'])
  })
})
