/**
 * npm run demo:checks: real checks on this machine. Starts the devices the
 * worked example (tests/data/checks.toml) points at, all on 127.0.0.1: a TCP
 * listener, an HTTP server with a healthy and a failing path, and the plugin
 * script it runs. Then run-server with that checks file and run-client over
 * tests/data/checks_commands.txt; prints every command's outcome and the
 * summary, stops the gateway as Ctrl+C would, and checks nothing is left.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { terminalSafe } from '../util/terminal-text.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const TCP_PORT = 15622
const HTTP_PORT = 15680
const serverArgs = ['--checks', 'tests/data/checks.toml', '--bind', 'tcp://127.0.0.1:*', '--max-workers', '2']
const commandsFile = 'tests/data/checks_commands.txt'

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

function listen(server: TcpServer | HttpServer, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port }, () => resolve())
  })
}

function close(server: TcpServer | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}

/** The devices: a listener that accepts and hangs up, and an HTTP server whose /broken path fails. */
async function startDevices(): Promise<{ tcp: TcpServer; http: HttpServer }> {
  const tcp = createTcpServer((socket) => socket.end())
  const http = createHttpServer((req, res) => {
    const healthy = req.url === '/health'
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' })
    res.end(healthy ? 'ok\n' : 'database unreachable\n')
  })
  await listen(tcp, TCP_PORT)
  await listen(http, HTTP_PORT)
  return { tcp, http }
}

interface Line {
  readonly line: number
  readonly address: string
  readonly command: string
  readonly outcome: string
  readonly value: unknown
}

function describe(line: Line): string {
  const value = line.value as { state?: number; output?: string; perfdata?: string } | null
  const states = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN']
  const what =
    line.outcome === 'ok' && value !== null && typeof value === 'object' && typeof value.state === 'number'
      ? `${states[value.state] ?? value.state}  ${value.output ?? ''}${value.perfdata !== undefined ? `  | ${value.perfdata}` : ''}`
      : line.outcome
  return `  ${`${line.address}:${line.command}`.padEnd(26)} ${terminalSafe(what, { maxLength: 200 })}`
}

async function main(): Promise<number> {
  let devices: { tcp: TcpServer; http: HttpServer }
  try {
    devices = await startDevices()
  } catch (error) {
    say(`cannot listen on 127.0.0.1:${TCP_PORT} and :${HTTP_PORT} (${(error as Error).message}); is another demo running?`)
    return 1
  }
  say(`devices: tcp 127.0.0.1:${TCP_PORT}, http 127.0.0.1:${HTTP_PORT} (/health 200, /broken 503), plugin tests/data/plugins/check_threshold`)
  const dir = mkdtempSync(join(tmpdir(), 'cgw-demo-checks-'))
  const output = join(dir, 'results.jsonl')
  try {
    say(`$ run-server ${serverArgs.join(' ')} &`)
    const server = spawn(process.execPath, ['bin/run-server.js', ...serverArgs, '--log-level', 'warn'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
    const serverExit = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)))
    let serverOut = ''
    const endpoint = await new Promise<string | undefined>((resolve) => {
      server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        serverOut += chunk
        const match = /listening (\S+)/.exec(serverOut)
        if (match !== null) resolve(match[1])
      })
      void serverExit.then(() => resolve(undefined))
    })
    if (endpoint === undefined) {
      say('run-server did not start')
      return 1
    }
    const clientArgs = [commandsFile, '4', 'tcp://127.0.0.1:*', endpoint, '--output', output]
    say(`$ run-client ${clientArgs.join(' ')}`)
    const client = spawn(process.execPath, ['bin/run-client.js', ...clientArgs], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
    let summary = ''
    client.stdout.setEncoding('utf8').on('data', (chunk: string) => (summary += chunk))
    const clientCode = await new Promise<number | null>((resolve) => client.once('close', (code) => resolve(code)))
    const lines = readFileSync(output, 'utf8').trim().split('\n').filter(Boolean).map((text) => JSON.parse(text) as Line)
      .sort((a, b) => a.line - b.line)
    for (const line of lines) say(describe(line))
    say(summary.trimEnd())
    say(`(run-client exited ${clientCode}: its --fail-on default, lost,unknown,failed,timeout, counts the unknown commands)`)
    say('$ kill -INT <run-server>   # what Ctrl+C does')
    server.kill('SIGINT')
    const serverCode = await serverExit
    say(`(run-server exited ${serverCode})`)
    const expected = lines.length === 9 && summary.includes('states')
    return expected && serverCode === 0 ? 0 : 1
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await Promise.all([close(devices.tcp), close(devices.http)])
  }
}

process.exitCode = await main()
