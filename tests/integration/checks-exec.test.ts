/**
 * The `exec` check kind (checks.md) with real plugin scripts: exit 0–3 is the
 * state and the first line (1 KiB at most, perfdata split at `|`) the output;
 * exit > 3, death by a signal and a program that cannot be spawned fail with
 * the reason; no shell, a minimal environment, `{address}` as one argument;
 * a timeout or an abort kills the plugin's whole process group (SIGTERM, then
 * SIGKILL after 1 s) and nothing is left: no process, pipe or timer. The
 * plugins are spawned by this process's plugin host (plugin-host.ts), which
 * the file starts once and proves gone at the end.
 */
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { KILL_GRACE_MS, pluginHost, runExec } from '../../dist/executors/checks/exec.js'
import type { CheckRun, ExecCheck } from '../../dist/executors/checks/types.js'
import { ROOT, childPids, expectAllGone, groupMembers, isAlive, waitFor } from '../helpers/processes.js'
import { extraResources, resourceCounts } from '../helpers/resources.js'

const PLUGINS = `${ROOT}tests/fixtures/plugins/`

function plugin(name: string, ...args: string[]): ExecCheck {
  return { kind: 'exec', argv: [`${PLUGINS}${name}`, ...args] }
}

function runOf(overrides: Partial<CheckRun> = {}): CheckRun {
  return { address: '127.0.0.1', command: 'plugin', timeoutMs: 10_000, signal: new AbortController().signal, ...overrides }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')
  } catch {
    return ''
  }
}

/** Processes running one of the fixture plugins that this process started, through its plugin host or not. */
function pluginChildren(name = ''): number[] {
  const host = pluginHost.pid
  const spawned = [...childPids(process.pid), ...(host === undefined ? [] : childPids(host))]
  return spawned.filter((pid) => cmdline(pid).includes(`${PLUGINS}${name}`))
}

beforeAll(async () => {
  // The host and its pipes, started once: a test's "nothing left" counts what its own check leaves.
  await runExec(plugin('exit-with.sh', '0', 'OK'), runOf())
})

afterAll(async () => {
  const host = pluginHost.pid
  await pluginHost.close()
  if (host !== undefined) await expectAllGone([host], 1000)
})

/** The pid (and process group) of the running plugin `name`, once its group has `members` processes. */
async function startedGroup(name: string, members: number): Promise<{ leader: number; members: number[] }> {
  let leader: number | undefined
  await waitFor(() => {
    leader = pluginChildren(name)[0]
    return leader !== undefined && groupMembers(leader).length >= members
  }, `${name} to start ${members} processes`)
  return { leader: leader!, members: groupMembers(leader!) }
}

afterEach(async () => {
  // Every test proves its own processes gone; this catches one that forgot.
  const left = pluginChildren()
  await expectAllGone(left, 1000)
})

describe('an exec check that exits 0 to 3', () => {
  it.each([
    { code: '0', state: 0, text: 'OK - all good' },
    { code: '1', state: 1, text: 'WARNING - load 5' },
    { code: '2', state: 2, text: 'CRITICAL - down' },
    { code: '3', state: 3, text: 'UNKNOWN - no idea' },
  ])('exit $code is state $state with the first line as output', async ({ code, state, text }) => {
    const value = await runExec(plugin('exit-with.sh', code, text), runOf())
    expect(value).toEqual({ state, output: text, ms: expect.any(Number) })
    expect(value.ms).toBeGreaterThan(0)
    expect(value).not.toHaveProperty('perfdata')
  })

  it('splits performance data after | off the first line, and reads no other line', async () => {
    const value = await runExec(plugin('perfdata.sh'), runOf())
    expect(value.state).toBe(0)
    expect(value.output).toBe('PING OK - Packet loss = 0%, RTA = 0.80 ms')
    expect(value.perfdata).toBe('rta=0.80ms;100;500;0 pl=0%;20;60;0')
  })

  it('gives no perfdata for an empty one after |', async () => {
    const value = await runExec(plugin('exit-with.sh', '0', 'OK |   '), runOf())
    expect(value).toEqual({ state: 0, output: 'OK', ms: expect.any(Number) })
  })

  it('keeps 1 KiB of the first line of a plugin that floods stdout, and drains the rest so it finishes', async () => {
    // flood.sh writes 3000 bytes, a newline and 4 MiB more: it would block on a full pipe if nobody read on.
    const value = await runExec(plugin('flood.sh'), runOf({ timeoutMs: 20_000 }))
    expect(value.state).toBe(1)
    expect(value.output).toBe('x'.repeat(1024))
  })
})

describe('an exec check that cannot produce a state', () => {
  it('fails with the exit code above 3', async () => {
    await expect(runExec(plugin('exit-with.sh', '5', 'weird'), runOf())).rejects.toThrow(/^exited with code 5$/)
  })

  it('fails with the signal that killed the plugin', async () => {
    await expect(runExec(plugin('signal-self.sh', 'SEGV'), runOf())).rejects.toThrow(/^killed by SIGSEGV$/)
  })

  it('fails with ENOENT for a program that does not exist', async () => {
    await expect(runExec(plugin('no-such-plugin'), runOf())).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringMatching(/^spawn .*no-such-plugin ENOENT$/) })
  })

  it('fails with EACCES for a program that is not executable', async () => {
    await expect(runExec(plugin('not-executable.sh'), runOf())).rejects.toMatchObject({ code: 'EACCES', message: expect.stringMatching(/^spawn .*not-executable\.sh EACCES$/) })
  })

  it('rejects with the reason at once, spawning nothing, when the signal has already fired', async () => {
    const controller = new AbortController()
    const reason = new Error('cancelled before it started')
    controller.abort(reason)
    await expect(runExec(plugin('sleeper.sh'), runOf({ signal: controller.signal }))).rejects.toBe(reason)
    expect(pluginChildren('sleeper.sh')).toEqual([])
  })
})

describe('what an exec plugin is given', () => {
  it('receives {address} substituted as one argument each, with nothing a shell would expand', async () => {
    const check = plugin('echo-args.sh', '-H', '{address}', 'url=http://{address}:5432/', '$(echo pwned) * ;')
    const value = await runExec(check, runOf({ address: 'db-1.dc1.example' }))
    expect(value.output).toBe('4 [-H] [db-1.dc1.example] [url=http://db-1.dc1.example:5432/] [$(echo pwned) * ;]')
  })

  it('has exactly PATH (the worker’s) and LC_ALL=C in its environment', async () => {
    const value = await runExec({ kind: 'exec', argv: [process.execPath, `${PLUGINS}print-env.mjs`] }, runOf())
    const path = createHash('sha256').update(process.env.PATH!).digest('hex')
    expect(value.output).toBe(`LC_ALL,PATH LC_ALL=C PATH#${path}`)
  })

  it('runs as the leader of its own process group', async () => {
    const controller = new AbortController()
    const running = runExec(plugin('sleeper.sh'), runOf({ signal: controller.signal }))
    const { leader, members } = await startedGroup('sleeper.sh', 2)
    const stat = readFileSync(`/proc/${leader}/stat`, 'utf8')
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])
    expect(pgrp).toBe(leader)
    controller.abort(new Error('done looking'))
    await expect(running).rejects.toThrow('done looking')
    await expectAllGone(members, 1000)
  })
})

describe('an exec plugin that outlives its check', () => {
  it('on timeout: SIGTERM ends the plugin and its sleep, and the check rejects with CommandTimeoutError well before the SIGKILL would come', async () => {
    const before = resourceCounts()
    const started = performance.now()
    const running = runExec(plugin('sleeper.sh'), runOf({ timeoutMs: 300, command: 'slow', address: '127.0.0.9' }))
    const { members } = await startedGroup('sleeper.sh', 2)
    await expect(running).rejects.toMatchObject({ code: 'ERR_COMMAND_TIMEOUT', message: '127.0.0.9:slow timed out after 300 ms' })
    const elapsed = performance.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(290)
    expect(elapsed).toBeLessThan(300 + KILL_GRACE_MS)
    await expectAllGone(members, 1000)
    expect(extraResources(before)).toEqual({})
  })

  it('on timeout: a plugin that ignores SIGTERM is SIGKILLed with its group 1 s later', async () => {
    const started = performance.now()
    const running = runExec(plugin('ignore-term.sh'), runOf({ timeoutMs: 200 }))
    const { members } = await startedGroup('ignore-term.sh', 2)
    await expect(running).rejects.toMatchObject({ code: 'ERR_COMMAND_TIMEOUT' })
    expect(performance.now() - started).toBeGreaterThanOrEqual(200 + KILL_GRACE_MS - 10)
    await expectAllGone(members, 1000)
  })

  it('on timeout: the grandchild the plugin forked into its group goes too', async () => {
    const before = resourceCounts()
    const running = runExec(plugin('grandchild.sh'), runOf({ timeoutMs: 400 }))
    // sh, its background sleep and its foreground sleep.
    const { leader, members } = await startedGroup('grandchild.sh', 3)
    await expect(running).rejects.toMatchObject({ code: 'ERR_COMMAND_TIMEOUT' })
    await expectAllGone(members, 1000)
    expect(groupMembers(leader)).toEqual([])
    expect(extraResources(before)).toEqual({})
  })

  it('on abort: the group is killed and the check rejects with the signal’s reason', async () => {
    const before = resourceCounts()
    const controller = new AbortController()
    const running = runExec(plugin('grandchild.sh'), runOf({ signal: controller.signal }))
    const { leader, members } = await startedGroup('grandchild.sh', 3)
    const reason = new Error('cancelled by the client')
    const aborted = performance.now()
    controller.abort(reason)
    await expect(running).rejects.toBe(reason)
    expect(performance.now() - aborted).toBeLessThan(KILL_GRACE_MS)
    await expectAllGone(members, 1000)
    expect(groupMembers(leader)).toEqual([])
    expect(extraResources(before)).toEqual({})
  })

  it('after a normal exit: a child left in the group is killed, and the state still comes back', async () => {
    const value = await runExec(plugin('leave-child.sh'), runOf())
    expect(value.state).toBe(0)
    const group = Number(/in group (\d+)$/.exec(value.output)?.[1])
    expect(group).toBeGreaterThan(0)
    // The left child had no time to end on its own: it sleeps for 30 s.
    await waitFor(() => groupMembers(group).length === 0, 'the left child to be killed', 1000)
    expect(isAlive(group)).toBe(false)
  })
})

describe('an exec plugin that exits while something outside its group holds its stdout', () => {
  it('ends at its timeout with the state of its exit and the line as it came (no newline)', async () => {
    const before = resourceCounts()
    const started = performance.now()
    const value = await runExec(plugin('held-pipe.sh', '3'), runOf({ timeoutMs: 300 }))
    expect(value).toEqual({ state: 0, output: 'OK - partial line', ms: expect.any(Number) })
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    expect(performance.now() - started).toBeLessThan(2000)
    // The sleep left its group on purpose (checks.md: no check kills a daemon); this test does.
    const held = readdirSync('/proc').filter((pid) => /^[0-9]+$/.test(pid) && cmdline(Number(pid)) === 'sleep 3 ')
    for (const pid of held) process.kill(Number(pid), 'SIGKILL')
    await expectAllGone(held.map(Number), 1000)
    expect(extraResources(before)).toEqual({})
  })
})

describe('the plugin host that spawns the plugins', () => {
  it('keeps its process alive while a settled check waits for its plugin’s pipe, and not once idle', async () => {
    // Nothing else keeps this node alive: the check's timer is gone once it settles at its timeout.
    const script = [
      `const { runExec } = await import(${JSON.stringify(`${ROOT}dist/executors/checks/exec.js`)})`,
      `const run = { address: '127.0.0.1', command: 'held', timeoutMs: 200, signal: new AbortController().signal }`,
      `const value = await runExec({ kind: 'exec', argv: [${JSON.stringify(`${PLUGINS}held-pipe.sh`)}, '1'] }, run)`,
      'console.log(JSON.stringify(value))',
    ].join('\n')
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk))
    const code = await new Promise((resolve) => child.once('close', resolve))
    // Exit 13 (a top-level await never settled) would mean the process ended under the waiting check.
    expect({ code, out, err }).toEqual({ code: 0, out: expect.stringContaining('"output":"OK - partial line"'), err: '' })
  })

  it('is the parent of every plugin: this process forks none', async () => {
    const controller = new AbortController()
    const running = runExec(plugin('sleeper.sh'), runOf({ signal: controller.signal }))
    const { leader, members } = await startedGroup('sleeper.sh', 2)
    expect(childPids(pluginHost.pid!)).toContain(leader)
    expect(childPids(process.pid)).not.toContain(leader)
    controller.abort(new Error('done looking'))
    await expect(running).rejects.toThrow('done looking')
    await expectAllGone(members, 1000)
  })

  it('killed while plugins run: their checks fail, their groups are killed, and the next check starts a new host', async () => {
    const first = runExec(plugin('ignore-term.sh'), runOf())
    const second = runExec(plugin('grandchild.sh'), runOf())
    const a = await startedGroup('ignore-term.sh', 2)
    const b = await startedGroup('grandchild.sh', 3)
    const host = pluginHost.pid!
    process.kill(host, 'SIGKILL')
    await expect(first).rejects.toThrow('the plugin host exited (SIGKILL)')
    await expect(second).rejects.toThrow('the plugin host exited (SIGKILL)')
    await expectAllGone([host, ...a.members, ...b.members], 1000)
    const value = await runExec(plugin('exit-with.sh', '1', 'WARNING - again'), runOf())
    expect(value).toMatchObject({ state: 1, output: 'WARNING - again' })
    expect(pluginHost.pid).not.toBe(host)
  })

  it('closed while a plugin runs: it SIGKILLs the group and exits, and the check fails', async () => {
    const running = runExec(plugin('ignore-term.sh'), runOf())
    const { members } = await startedGroup('ignore-term.sh', 2)
    const host = pluginHost.pid!
    await pluginHost.close()
    await expect(running).rejects.toThrow('the plugin host exited (code 0)')
    await expectAllGone([host, ...members], 1000)
  })
})
