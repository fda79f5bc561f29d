/**
 * A loopback port where a TCP connect hangs: a child process listens on it
 * and never accepts (tests/fixtures/stalled-listener.mjs), and two filler
 * connections fill its accept queue, so the kernel drops every later SYN.
 * The deterministic way to time out a connect without leaving 127.0.0.0/8.
 */
import { spawn } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { ROOT, expectAllGone } from './processes.js'

export interface StalledListener {
  readonly port: number
  /** Closes the fillers and ends the listener process, proving it gone. */
  close(): Promise<void>
}

export async function startStalledListener(): Promise<StalledListener> {
  const child = spawn(process.execPath, [`${ROOT}tests/fixtures/stalled-listener.mjs`], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    let text = ''
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`the stalled listener exited with code ${code}`)))
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk
      if (text.includes('\n')) resolve(Number(text.trim()))
    })
  })
  const fillers: Socket[] = []
  // A backlog of 1 holds two connections on Linux; both complete without the listener accepting.
  for (let i = 0; i < 2; i++) {
    const socket = connect({ host: '127.0.0.1', port })
    fillers.push(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
  }
  return {
    port,
    close: async () => {
      for (const socket of fillers) socket.destroy()
      child.kill('SIGKILL')
      await expectAllGone([child.pid!])
    },
  }
}
