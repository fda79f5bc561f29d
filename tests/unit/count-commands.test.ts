/**
 * countCommandLines: the lines the commands reader would try, counted ahead
 * of it without parsing, for the progress line's total.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { countCommandLines } from '../../src/data/count-commands.js'
import { readCommands } from '../../src/data/commands-file.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cgw-count-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, text)
  return path
}

describe('countCommandLines', () => {
  it('counts what the reader reads, skipping blank lines and comments, CRLF and a last line without its end included', async () => {
    const path = await file('mixed.txt', 'a:b\n\n  # c\n  x:y\r\n#z\n\t\r\n10.0.0.1:ping\nlast:one')
    let read = 0
    for await (const commands of readCommands(path)) read += commands.length
    expect(read).toBe(4)
    expect(await countCommandLines(path)).toBe(4)
  })

  it('counts bad lines too: an upper bound until the input ends', async () => {
    expect(await countCommandLines(await file('bad.txt', 'a:b\nnot a command\n'))).toBe(2)
  })

  it('counts lines that span read chunks (1 MiB each)', async () => {
    const line = `${'x'.repeat(200)}:cmd\n`
    expect(await countCommandLines(await file('big.txt', line.repeat(20_000)))).toBe(20_000)
  })

  it('gives undefined for standard input, a directory and a file that is not there', async () => {
    expect(await countCommandLines('-')).toBeUndefined()
    expect(await countCommandLines(dir)).toBeUndefined()
    expect(await countCommandLines(join(dir, 'missing.txt'))).toBeUndefined()
  })

  it('gives undefined when aborted', async () => {
    const path = await file('abort.txt', 'a:b\n'.repeat(1000))
    const controller = new AbortController()
    controller.abort()
    expect(await countCommandLines(path, controller.signal)).toBeUndefined()
  })
})
