/**
 * The codec warm-up feeds the readers frames shaped as received ones, and
 * only well-formed ones: a warm-up that trained the readers on another kind
 * of Buffer, or on their failure paths, would be undone by the first real
 * frame.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { scanCommandPairs } from '../../src/protocol/msgpack-scan.js'
import { validateClientInboundHeader, validateGatewayHeader, validateIntakeHeader, validateWorkerHeader } from '../../src/protocol/validate.js'
import { asReceived, sampleFrames } from '../../src/protocol/warm-up.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** Runs `script` in a fresh node with V8's natives syntax on (for %HaveSameMap), from the repository root. */
function withNatives(script: string): unknown {
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 })
  return JSON.parse(out)
}

describe('asReceived', () => {
  it('makes a Buffer with the bytes given and the hidden class of a frame zeromq.js receives, which Buffer.from does not', () => {
    const made = asReceived(Buffer.from('frame bytes'))
    expect(Buffer.isBuffer(made)).toBe(true)
    expect(made.equals(Buffer.from('frame bytes'))).toBe(true)
    // The built module, in a process where V8 can be asked whether two objects share a map.
    const maps = withNatives(`
      import { Pull, Push } from 'zeromq'
      import { asReceived } from './dist/protocol/warm-up.js'
      const pull = new Pull({ linger: 0 }), push = new Push({ linger: 0 })
      await pull.bind('inproc://maps'); push.connect('inproc://maps')
      const sent = Buffer.from('frame bytes')
      await push.send([sent, Buffer.alloc(5000)])
      const [small, large] = await pull.receive()
      console.log(JSON.stringify({ small: %HaveSameMap(asReceived(sent), small), large: %HaveSameMap(asReceived(sent), large), jsMade: %HaveSameMap(sent, small) }))
      push.close(); pull.close()
    `)
    expect(maps).toEqual({ small: true, large: true, jsMade: false })
  })
})

describe('the warm-up frames', () => {
  it('are all well-formed, with real-length ids and bodies past the fixarray size', () => {
    const f = sampleFrames()
    for (const task of f.tasks) {
      expect(validateIntakeHeader(task).ok).toBe(true)
      expect(validateGatewayHeader(task).ok).toBe(true)
    }
    expect(validateIntakeHeader(f.abort).ok).toBe(true)
    expect(validateGatewayHeader(f.heartbeat).ok).toBe(true)
    expect(f.bodies.map((body) => scanCommandPairs(body, 10_000))).toEqual([1, 16])
    for (const frame of [f.ready, ...f.done, f.bye]) expect(validateWorkerHeader(frame).ok).toBe(true)
    // The done shapes that workers send: bare, with counts and a float ms, and with states too.
    const reported = f.done.map((frame) => {
      const done = validateWorkerHeader(frame)
      return done.ok && done.header.type === 'done' ? [done.header.counts !== undefined, done.header.states !== undefined] : undefined
    })
    expect(reported).toEqual([[false, false], [true, false], [true, true]])
    for (const frame of [f.result, f.rejected]) expect(validateClientInboundHeader(frame).ok).toBe(true)
    const header = validateIntakeHeader(f.tasks[0]!)
    expect(header.ok && header.header.type === 'task' && header.header.client.length).toBe(36)
  })
})
