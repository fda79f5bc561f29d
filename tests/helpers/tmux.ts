/**
 * A real terminal for a test: a private tmux server (its own socket, no
 * config file) with one window running `sh`, into which the test types and
 * whose screen it reads, as a person would see it. `kill()` ends the server
 * and everything in it; `pids()` names them, so the test can prove them gone.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'

const TMUX = '/usr/bin/tmux'

export interface TmuxOptions {
  readonly width?: number
  readonly height?: number
  /** The directory the shell starts in. */
  readonly cwd: string
  /** Added to the shell's environment. */
  readonly env?: Record<string, string>
}

export class TmuxSession {
  private readonly socket = `cgw-test-${process.pid}-${randomBytes(4).toString('hex')}`
  private killed = false
  /** Where the server listens; kill-server leaves the socket file behind. */
  private readonly socketPath: string

  constructor(options: TmuxOptions) {
    const env = Object.entries(options.env ?? {}).flatMap(([key, value]) => ['-e', `${key}=${value}`])
    const size = ['-x', String(options.width ?? 160), '-y', String(options.height ?? 40)]
    // The history limit first (a pane takes it when it is made): a capture then sees every line the run printed.
    this.tmux(['start-server', ';', 'set-option', '-g', 'history-limit', '10000', ';', 'new-session', '-d', '-s', 'test', ...size, '-c', options.cwd, ...env, 'sh'])
    this.socketPath = this.tmux(['display-message', '-p', '#{socket_path}']).trim()
  }

  /** Types `line` and Enter into the shell. */
  type(line: string): void {
    this.tmux(['send-keys', '-t', 'test', '-l', line])
    this.tmux(['send-keys', '-t', 'test', 'Enter'])
  }

  /** Sends tmux key names, e.g. `C-c`. */
  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', 'test', ...keys])
  }

  /** The screen and its history, wrapped lines joined (`capture-pane -p -J`), colours stripped. */
  capture(): string[] {
    return this.tmux(['capture-pane', '-p', '-J', '-S', '-', '-t', 'test']).split('\n')
  }

  /** The visible screen only, one row per line as the terminal shows it (wrapped lines not joined). */
  screen(): string[] {
    return this.tmux(['capture-pane', '-p', '-t', 'test']).split('\n')
  }

  /** The tmux server's pid and the pane's (the shell's). */
  pids(): { server: number; pane: number } {
    const [server, pane] = this.tmux(['display-message', '-p', '-t', 'test', '#{pid} #{pane_pid}']).trim().split(' ').map(Number)
    return { server: server!, pane: pane! }
  }

  /** Ends the server, its shell and whatever runs in it (they get SIGHUP). Idempotent. */
  kill(): void {
    if (this.killed) return
    this.killed = true
    try {
      this.tmux(['kill-server'])
    } catch {
      // already gone
    }
    if (this.socketPath.includes(this.socket)) rmSync(this.socketPath, { force: true })
  }

  private tmux(args: string[]): string {
    return execFileSync(TMUX, ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  }
}
