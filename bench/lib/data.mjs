// Commands files and device maps for the scenarios, in one temporary
// directory that is removed when the bench exits.
//
// tests/data/generate.mjs gives every line its own consecutive IPv4 address,
// so big files repeat a 512-line file instead: the map stays 512 entries and
// every command in the file is known to it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { node, run } from './proc.mjs'

const dir = mkdtempSync(join(tmpdir(), 'cgw-bench-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

const bases = new Map()

/** The 512-line commands file and map where every device answers after `wait` seconds. */
export async function base(wait) {
  if (!bases.has(wait)) {
    const out = join(dir, `wait-${wait}`)
    const result = await run(node, ['tests/data/generate.mjs', '--lines', '512', '--wait', String(wait), '--out', out])
    if (result.code !== 0) throw new Error(`generate.mjs failed: ${result.err}`)
    bases.set(wait, {
      map: join(out, 'server_data.txt'),
      commands: join(out, 'client_data.txt'),
      lines: readFileSync(join(out, 'client_data.txt'), 'utf8').trimEnd().split('\n'),
    })
  }
  return bases.get(wait)
}

/** A commands file of exactly `count` lines (the 512 known commands, repeated) and its map. */
export async function commands(count, wait = 0) {
  const b = await base(wait)
  const file = join(dir, `commands-${count}-wait-${wait}.txt`)
  const block = `${b.lines.join('\n')}\n`
  const rest = count % b.lines.length
  writeFileSync(file, block.repeat(Math.floor(count / b.lines.length)) + (rest > 0 ? `${b.lines.slice(0, rest).join('\n')}\n` : ''))
  return { map: b.map, file, count, first: b.lines[0] }
}
