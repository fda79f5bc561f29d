#!/usr/bin/env node
// Writes a commands file and its device map: N commands over consecutive IPv4
// addresses from 137.72.95.0, two commands (foo, bar) per address, every
// device answering <response> after <wait> seconds.
//
//   npm run gen-data -- --lines 512 --wait 1              (the committed fixtures)
//   npm run gen-data -- --lines 20000 --wait 0.05 --out /tmp/big
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '512' },
    wait: { type: 'string', default: '1' },
    response: { type: 'string', default: '1' },
    out: { type: 'string', default: new URL('.', import.meta.url).pathname },
    help: { type: 'boolean', default: false },
  },
})
if (values.help) {
  console.log('usage: npm run gen-data -- [--lines N] [--wait SECONDS] [--response INT] [--out DIR]')
  process.exit(0)
}
const lines = Number(values.lines)
const wait = values.wait
if (!Number.isInteger(lines) || lines < 1) throw new Error(`--lines must be a positive integer, got ${values.lines}`)
if (!/^[0-9]+(\.[0-9]+)?$/.test(wait)) throw new Error(`--wait must be a number of seconds, got ${wait}`)
if (!/^-?[0-9]+$/.test(values.response)) throw new Error(`--response must be an integer, got ${values.response}`)

const base = ((137 << 24) >>> 0) + (72 << 16) + (95 << 8)
const commands = ['foo', 'bar']
const client = []
const server = []
for (let i = 0; i < lines; i++) {
  const n = base + Math.floor(i / commands.length)
  const ip = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
  const command = commands[i % commands.length]
  client.push(`${ip}:${command}`)
  server.push(`${ip}:${command}:${values.response}:${wait}`)
}
mkdirSync(values.out, { recursive: true })
writeFileSync(join(values.out, 'client_data.txt'), `${client.join('\n')}\n`)
writeFileSync(join(values.out, 'server_data.txt'), `${server.join('\n')}\n`)
console.log(`wrote ${lines} commands to ${join(values.out, 'client_data.txt')} and ${join(values.out, 'server_data.txt')}`)
