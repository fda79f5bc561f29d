/**
 * The CLIs an e2e test file starts, remembered so that its afterEach can stop
 * them and prove them gone: `start` (running), `run` (to its exit) and
 * `listening` (run-server's endpoint from its `listening` line).
 */
import { expectAllGone, startCli, waitFor, type RunningCli } from './processes.js'

export type Name = Parameters<typeof startCli>[0]

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface TrackedClis {
  start(name: Name, args: string[], env?: Record<string, string>): RunningCli
  run(name: Name, args: string[], env?: Record<string, string>): Promise<CliResult>
  /** Sends `signal` to every CLI still running and waits for all of them (and their children) to be gone. */
  stopAll(): Promise<void>
}

export function trackedClis(signal: 'SIGINT' | 'SIGKILL'): TrackedClis {
  let started: RunningCli[] = []
  const start = (name: Name, args: string[], env: Record<string, string> = {}): RunningCli => {
    const cli = startCli(name, args, { env })
    started.push(cli)
    return cli
  }
  return {
    start,
    async run(name, args, env = {}) {
      const cli = start(name, args, env)
      const { code } = await cli.exited
      return { code, stdout: cli.stdout(), stderr: cli.stderr() }
    },
    async stopAll() {
      const clis = started
      started = []
      for (const cli of clis) if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill(signal)
      await expectAllGone(clis.map((cli) => cli.pid), 5000)
    },
  }
}

/** run-server's intake endpoint, from its `listening <endpoint>` line; throws with its stderr if it exited first. */
export async function listening(server: RunningCli): Promise<string> {
  await waitFor(() => server.stdout().includes('listening ') || server.child.exitCode !== null, 'run-server to print its endpoint')
  const match = /listening (\S+)/.exec(server.stdout())
  if (match === null) throw new Error(`run-server exited ${server.child.exitCode}: ${server.stderr()}`)
  return match[1]!
}
