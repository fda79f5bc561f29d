#!/usr/bin/env node
// Restores lock entries for optional, platform-specific packages that the
// registry mirror of this workplace does not serve (msgpackr-extract's darwin,
// win32 and linux-arm builds answer 404 here). `npm install` skips them
// silently and writes a lock without them; `npm ci` then refuses that lock
// ("Missing: … from lock file"). Entries naming only the version and the
// os/cpu constraint are enough: npm never installs them on Linux x64.
//
// Run after any `npm install` that rewrote package-lock.json:
//   node .ci/fix-lock.mjs
import { readFileSync, writeFileSync } from 'node:fs'

const path = new URL('../package-lock.json', import.meta.url)
const lock = JSON.parse(readFileSync(path, 'utf8'))
const platform = /-(darwin|linux|win32|freebsd|android)-(x64|arm64|arm|ia32)(-gnu|-musl|-msvc)?$/
const added = []
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const target = `node_modules/${name}`
    if (lock.packages[target] !== undefined || lock.packages[`${key}/${target}`] !== undefined) continue
    const match = platform.exec(name)
    if (match === null) continue
    lock.packages[target] = { version, cpu: [match[2]], license: entry.license ?? 'MIT', optional: true, os: [match[1]] }
    added.push(`${name}@${version}`)
  }
}
if (added.length > 0) {
  const [root, ...rest] = Object.entries(lock.packages)
  rest.sort(([a], [b]) => a.localeCompare(b))
  lock.packages = Object.fromEntries([root, ...rest])
  writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`)
}
console.log(added.length > 0 ? `added lock entries: ${added.join(', ')}` : 'lock file complete')
