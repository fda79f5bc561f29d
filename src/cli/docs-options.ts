/**
 * npm run docs:options: rewrites the README's option tables from the option
 * schemas (between the `<!-- options:<command> -->` markers). `--check` only
 * reports whether they are in step (exit 1 when not).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { renderReadme } from '../options/docs.js'

const path = new URL('../../README.md', import.meta.url)
const current = readFileSync(path, 'utf8')
const next = renderReadme(current)
if (process.argv.includes('--check')) {
  process.stdout.write(next === current ? 'README option tables are in step\n' : 'README option tables differ: run npm run docs:options\n')
  process.exitCode = next === current ? 0 : 1
} else if (next !== current) {
  writeFileSync(path, next)
  process.stdout.write('README option tables rewritten\n')
} else {
  process.stdout.write('README option tables already in step\n')
}
