/**
 * npm run demo: the original scenario, run the way its users ran it. Starts
 * run-server on the seed's ports, runs run-client against it, then stops the
 * server with SIGINT (as Ctrl+C would) and checks that nothing is left.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const serverArgs = ['tests/data/server_data.txt', 'tcp://127.0.0.1:5557', 'tcp://127.0.0.1:5556', '32']
const clientArgs = ['tests/data/client_data.txt', '16', 'tcp://127.0.0.1:5556', 'tcp://127.0.0.1:5557']

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

async function main(): Promise<number> {
  say(`$ run-server ${serverArgs.join(' ')} &`)
  const server = spawn(process.execPath, ['bin/run-server.js', ...serverArgs, '--log-level', 'warn'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const serverExit = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)))
  let serverOut = ''
  const listening = new Promise<boolean>((resolve) => {
    server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      serverOut += chunk
      if (serverOut.includes('listening')) resolve(true)
    })
    void serverExit.then(() => resolve(false))
  })
  if (!(await listening)) {
    say('run-server did not start (is something else on port 5557?)')
    return 1
  }
  say(serverOut.trim())
  say(`$ run-client ${clientArgs.join(' ')}`)
  const client = spawn(process.execPath, ['bin/run-client.js', ...clientArgs], { cwd: root, stdio: 'inherit' })
  const clientCode = await new Promise<number | null>((resolve) => client.once('exit', (code) => resolve(code)))
  say(`(run-client exited ${clientCode})`)
  say('$ kill -INT <run-server>   # what Ctrl+C does')
  server.kill('SIGINT')
  const serverCode = await serverExit
  say(serverOut.split('\n').filter((line) => line.startsWith('served')).join('\n'))
  say(`(run-server exited ${serverCode})`)
  return clientCode === 0 && serverCode === 0 ? 0 : 1
}

process.exitCode = await main()
