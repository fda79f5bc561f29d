/**
 * The shape the redesign left, kept: small modules. No file under src/ grows
 * past 400 lines; one that needs to has more than one job, and is split.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = new URL('../../src/', import.meta.url).pathname
const MAX_LINES = 400

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  )
}

describe('source files', () => {
  it(`are at most ${MAX_LINES} lines each`, () => {
    const files = sources(SRC)
    expect(files.length).toBeGreaterThan(100)
    const long = files.map((file) => ({ file: file.slice(SRC.length), lines: readFileSync(file, 'utf8').split('\n').length - 1 })).filter(({ lines }) => lines > MAX_LINES)
    expect(long).toEqual([])
  })
})
