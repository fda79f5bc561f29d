/** Fixture files written into a fresh temporary directory per test. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Fixtures {
  readonly dir: string
  /** Writes `name` with `lines` and returns its path. */
  write(name: string, lines: readonly string[]): Promise<string>
  /** The seed's shape: `count` commands over 137.72.95.x × foo/bar, and a map answering `response` after `waitSeconds`. */
  seed(count: number, waitSeconds: number, response?: number): Promise<{ commands: string; map: string }>
  remove(): Promise<void>
}

export async function fixtures(): Promise<Fixtures> {
  const dir = await mkdtemp(join(tmpdir(), 'cgw-test-'))
  const write = async (name: string, lines: readonly string[]): Promise<string> => {
    const path = join(dir, name)
    await writeFile(path, lines.length > 0 ? `${lines.join('\n')}\n` : '')
    return path
  }
  return {
    dir,
    write,
    async seed(count, waitSeconds, response = 1) {
      const commands: string[] = []
      const map: string[] = []
      for (let i = 0; i < count; i++) {
        const n = Math.floor(i / 2)
        const address = `137.72.${95 + Math.floor(n / 256)}.${n % 256}`
        const command = i % 2 === 0 ? 'foo' : 'bar'
        commands.push(`${address}:${command}`)
        map.push(`${address}:${command}:${response}:${waitSeconds}`)
      }
      return { commands: await write('commands.txt', commands), map: await write('map.txt', map) }
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  }
}
