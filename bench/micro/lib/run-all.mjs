#!/usr/bin/env node
// npm run bench:micro: runs every micro-benchmark in bench/micro, one after
// the other (they time the CPU, so never two at once), each in a fresh node
// with its default settings. Exits non-zero if any of them fails.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const dir = join(dirname(fileURLToPath(import.meta.url)), '..')
const files = readdirSync(dir).filter((name) => name.endsWith('.mjs')).sort()
let failed = 0
for (const name of files) {
  console.log(`\n## bench/micro/${name}\n`)
  const run = spawnSync(process.execPath, [join(dir, name)], { stdio: 'inherit' })
  if (run.status !== 0) {
    failed++
    console.log(`bench/micro/${name} failed (${run.status ?? run.signal})`)
  }
}
process.exitCode = failed === 0 ? 0 : 1
