import { describe, expect, it } from 'vitest'
import { Unpackr } from 'msgpackr'
import { decodeTrusted, decodeUntrusted, encode, type Decoded } from '../../src/protocol/codec.js'
import { commandListBody, commandsBody, outcomesBody, resultFrame, taskFrame } from '../../src/protocol/frames.js'
import { scanCommandPairs } from '../../src/protocol/msgpack-scan.js'
import { Limits } from '../../src/protocol/limits.js'
import { bytes, fixarray, fixmap, fixstr, map16, str16, str8 } from './support/raw-msgpack.js'
import { seededRandom } from '../helpers/random.js'

const MAX_BYTES = Limits.headerBytes
const MAX_DEPTH = Limits.headerDepth

const prng = seededRandom

function randomInt(random: () => number, below: number): number {
  return Math.floor(random() * below)
}

/** Why `value` is not made of plain data (plain objects, arrays, bytes, scalars), or undefined. */
function notPlainData(value: unknown, path = '$'): string | undefined {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return undefined
  if (typeof value !== 'object') return `${path} is a ${typeof value}`
  if (value instanceof Uint8Array) return undefined
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = notPlainData(value[i], `${path}[${i}]`)
      if (problem !== undefined) return problem
    }
    return undefined
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return `${path} is a ${value.constructor.name}, not a plain object`
  for (const [key, item] of Object.entries(value)) {
    const problem = notPlainData(item, `${path}.${key}`)
    if (problem !== undefined) return problem
  }
  return undefined
}

/** Decodes without letting an exception escape, so the test can name the input that threw. */
function decodeOrReport(frame: Uint8Array): Decoded | { thrown: unknown } {
  try {
    return decodeUntrusted(frame, MAX_BYTES, MAX_DEPTH)
  } catch (error) {
    return { thrown: error }
  }
}

/** Checks one fuzz input; returns a description of what went wrong, or undefined. */
function fuzzProblem(frame: Uint8Array): string | undefined {
  const hex = Buffer.from(frame).toString('hex')
  const result = decodeOrReport(frame)
  if ('thrown' in result) return `threw ${String(result.thrown)} for ${hex}`
  if (!result.ok) return typeof result.reason === 'string' && result.reason.length > 0 ? undefined : `no reason for ${hex}`
  const problem = notPlainData(result.value)
  return problem === undefined ? undefined : `${problem} for ${hex}`
}

describe('decodeUntrusted on random bytes', () => {
  it('never throws and returns either plain data or a reason for 2000 random buffers', () => {
    const random = prng(0xc0ffee)
    const problems: string[] = []
    for (let n = 0; n < 2000; n++) {
      const frame = new Uint8Array(randomInt(random, 64))
      for (let i = 0; i < frame.length; i++) frame[i] = randomInt(random, 256)
      const problem = fuzzProblem(frame)
      if (problem !== undefined) problems.push(`#${n}: ${problem}`)
    }
    expect(problems).toEqual([])
  })

  it('never throws for 2000 random buffers that start like a map or an array', () => {
    // Pure noise mostly fails on the first byte; a container head makes the walk go deeper.
    const heads = [0x81, 0x83, 0x86, 0x8f, 0x91, 0x92, 0x9f, 0xde, 0xdc]
    const random = prng(42)
    const problems: string[] = []
    for (let n = 0; n < 2000; n++) {
      const frame = new Uint8Array(1 + randomInt(random, 48))
      frame[0] = heads[randomInt(random, heads.length)]!
      for (let i = 1; i < frame.length; i++) frame[i] = randomInt(random, 256)
      const problem = fuzzProblem(frame)
      if (problem !== undefined) problems.push(`#${n}: ${problem}`)
    }
    expect(problems).toEqual([])
  })
})

describe('decodeUntrusted on mutated valid frames', () => {
  const frames = [
    { name: 'a task header', frame: taskFrame('17', 'client-a', 'tcp://127.0.0.1:5556', 1) },
    { name: 'a result header', frame: resultFrame('17', 'client-a', 'w-1', 2) },
    { name: 'a task body', frame: commandsBody([['10.0.0.1', 'foo'], ['2001:db8::1', 'bar'], ['host', 'baz']]) },
    { name: 'a result body', frame: outcomesBody([[0, 1], [1, null], [2, 'boom'], [3, null], [0, -70_000]]) },
    { name: 'a nested map', frame: encode({ a: { b: { c: [1, 2, { d: 'e' }] } }, f: 1.5, g: Buffer.from('xy') }) },
  ]

  it.each(frames)('never throws when bytes of $name are flipped (seeded)', ({ frame }) => {
    const random = prng(frame.length)
    const problems: string[] = []
    for (let n = 0; n < 400; n++) {
      const mutated = Buffer.from(frame)
      const flips = 1 + randomInt(random, 3)
      for (let f = 0; f < flips; f++) {
        const at = randomInt(random, mutated.length)
        mutated[at] = mutated[at]! ^ (1 + randomInt(random, 255))
      }
      const problem = fuzzProblem(mutated)
      if (problem !== undefined) problems.push(`#${n}: ${problem}`)
    }
    expect(problems).toEqual([])
  })

  it.each(frames)('never throws when each single byte of $name is replaced by every value', ({ frame }) => {
    const problems: string[] = []
    for (let at = 0; at < frame.length; at++) {
      for (let value = 0; value < 256; value++) {
        const mutated = Buffer.from(frame)
        mutated[at] = value
        const problem = fuzzProblem(mutated)
        if (problem !== undefined) problems.push(problem)
      }
    }
    expect(problems).toEqual([])
  })
})

describe('decodeUntrusted on a frame over the size limit', () => {
  it('rejects a frame one byte over maxBytes and names both sizes', () => {
    const frame = Buffer.alloc(101)
    expect(decodeUntrusted(frame, 100, MAX_DEPTH)).toEqual({ ok: false, reason: 'frame of 101 bytes exceeds 100' })
  })

  it('rejects an oversize frame before looking at its bytes, even when they are valid', () => {
    const frame = encode('x'.repeat(200))
    expect(decodeUntrusted(frame, 100, MAX_DEPTH)).toMatchObject({ ok: false, reason: expect.stringContaining('exceeds 100') })
  })

  it('accepts a valid frame of exactly maxBytes', () => {
    const frame = encode('x'.repeat(98)) // str8: 2 bytes of head + 98
    expect(frame.length).toBe(100)
    expect(decodeUntrusted(frame, 100, MAX_DEPTH)).toEqual({ ok: true, value: 'x'.repeat(98) })
  })
})

describe('decodeUntrusted on maps', () => {
  it('decodes a map from our encoder as a plain object', () => {
    const result = decodeUntrusted(encode({ a: 1, b: { c: 'd' } }), MAX_BYTES, MAX_DEPTH)
    expect(result).toEqual({ ok: true, value: { a: 1, b: { c: 'd' } } })
    expect(result.ok && notPlainData(result.value)).toBeUndefined()
    expect(result.ok && result.value instanceof Map).toBe(false)
  })

  it.each([
    { form: 'a fixmap with fixstr keys', frame: bytes(fixmap(2), fixstr('a'), 1, fixstr('b'), fixstr('x')) },
    { form: 'a map16 with str8 keys', frame: bytes(map16(2), str8('a'), 1, str8('b'), str8('x')) },
  ])('decodes $form from another encoder as a plain object', ({ frame }) => {
    const result = decodeUntrusted(frame, MAX_BYTES, MAX_DEPTH)
    expect(result).toEqual({ ok: true, value: { a: 1, b: 'x' } })
    expect(result.ok && Object.getPrototypeOf(result.value)).toBe(Object.prototype)
  })

  it('decodes maps inside arrays as plain objects', () => {
    const frame = bytes(fixarray(2), fixmap(1), fixstr('k'), 1, fixarray(1), fixmap(0))
    const result = decodeUntrusted(frame, MAX_BYTES, MAX_DEPTH)
    expect(result).toEqual({ ok: true, value: [{ k: 1 }, [{}]] })
    expect(result.ok && notPlainData(result.value)).toBeUndefined()
  })

  it('decodes maps as plain objects in decodeTrusted too', () => {
    const value = decodeTrusted(bytes(map16(1), str8('k'), fixmap(0)))
    expect(value).toEqual({ k: {} })
    expect(notPlainData(value)).toBeUndefined()
  })
})

describe('decodeUntrusted on values msgpackr would turn into objects', () => {
  it('rejects a timestamp extension rather than returning a Date', () => {
    const frame = bytes(0xd6, 0xff, 0x00, 0x00, 0x00, 0x01)
    expect(decodeUntrusted(frame, MAX_BYTES, MAX_DEPTH)).toEqual({ ok: false, reason: 'extension types are not allowed' })
  })

  it('rejects a msgpackr record definition (extension 0x72)', () => {
    const frame = bytes(0xd4, 0x72, 0x40)
    expect(decodeUntrusted(frame, MAX_BYTES, MAX_DEPTH)).toEqual({ ok: false, reason: 'extension types are not allowed' })
  })
})

describe('decodeUntrusted on every extension tag', () => {
  // CGP/1 forbids extension types anywhere; msgpackr would decode some (a timestamp into a Date).
  const extensions = [
    { tag: 'fixext 1 (0xd4)', ext: [0xd4, 0x01, 0x00] },
    { tag: 'fixext 2 (0xd5)', ext: [0xd5, 0x01, 0x00, 0x00] },
    { tag: 'fixext 4 (0xd6), the 32-bit timestamp', ext: [0xd6, 0xff, 0x00, 0x00, 0x00, 0x01] },
    { tag: 'fixext 8 (0xd7), the 64-bit timestamp', ext: [0xd7, 0xff, 0, 0, 0, 0, 0, 0, 0, 1] },
    { tag: 'fixext 16 (0xd8)', ext: [0xd8, 0x01, ...Array<number>(16).fill(0)] },
    { tag: 'ext 8 (0xc7), the 96-bit timestamp', ext: [0xc7, 0x0c, 0xff, ...Array<number>(12).fill(0)] },
    { tag: 'ext 16 (0xc8)', ext: [0xc8, 0x00, 0x02, 0x05, 0xaa, 0xbb] },
    { tag: 'ext 32 (0xc9)', ext: [0xc9, 0x00, 0x00, 0x00, 0x01, 0x05, 0xaa] },
  ]
  const places = [
    { where: 'at the top level', frame: (ext: number[]) => bytes(ext) },
    { where: 'as a map value', frame: (ext: number[]) => bytes(fixmap(1), fixstr('k'), ext) },
    { where: 'as a map key', frame: (ext: number[]) => bytes(fixmap(1), ext, 1) },
    { where: 'in a result body', frame: (ext: number[]) => bytes(fixarray(2), fixarray(2), 0, 1, fixarray(2), 0, ext) },
  ]
  const cases = extensions.flatMap(({ tag, ext }) => places.map(({ where, frame }) => ({ tag, where, frame: frame(ext) })))

  it.each(cases)('reports $tag $where', ({ frame }) => {
    expect(decodeUntrusted(frame, MAX_BYTES, MAX_DEPTH)).toEqual({ ok: false, reason: 'extension types are not allowed' })
  })
})

describe('decodeUntrusted on nesting', () => {
  it('rejects a frame nested deeper than maxDepth', () => {
    const frame = bytes(Array(MAX_DEPTH + 1).fill(fixarray(1)), 1)
    expect(decodeUntrusted(frame, MAX_BYTES, MAX_DEPTH)).toEqual({ ok: false, reason: `nested deeper than ${MAX_DEPTH}` })
  })

  it('decodes a frame nested exactly maxDepth deep', () => {
    const frame = bytes(Array(MAX_DEPTH).fill(fixarray(1)), 1)
    expect(decodeUntrusted(frame, MAX_BYTES, MAX_DEPTH)).toMatchObject({ ok: true })
  })
})

describe('outcomesBody', () => {
  const values = [0, 1, 127, 128, -1, -32, -33, 255, 65_536, -2_147_483_648, 2_147_483_647, 2_147_483_648, 1.5, null, 'boom', -0]
  const random = seededRandom(7)

  it('decodes to the same outcomes whatever mix of values it carries, for every array length class', () => {
    for (const n of [0, 1, 15, 16, 300, 65_535, 65_536, 70_000]) {
      for (let round = 0; round < 3; round++) {
        const outcomes = Array.from({ length: n }, (_, i) => {
          // Round 0: only small-path values; later rounds: any value.
          const pool = round === 0 ? values.filter((v) => v === null || (Number.isInteger(v) && Math.abs(v as number) < 2 ** 31)) : values
          const value = pool[Math.floor(random() * pool.length)]!
          return [i % 4, value] as [0 | 1 | 2 | 3, number | string | null]
        })
        const decoded = decodeTrusted(outcomesBody(outcomes as never)) as unknown[]
        expect(decoded).toEqual(outcomes.map(([code, value]) => [code, Object.is(value, -0) ? 0 : value]))
        expect(decodeUntrusted(outcomesBody(outcomes as never), 16 * 1024 * 1024, Limits.bodyDepth).ok).toBe(true)
      }
    }
  })

  it('reads the same in a foreign msgpack decoder as the general encoding does', () => {
    const outcomes: [number, number | null][] = [[0, 1], [1, null], [0, 300], [0, -5], [0, -70_000]]
    const foreign = new Unpackr({ mapsAsObjects: true })
    expect(foreign.unpack(outcomesBody(outcomes as never))).toEqual(foreign.unpack(encode(outcomes)))
  })
})

describe('commandsBody and commandListBody', () => {
  const random = seededRandom(11)
  const alphabet = ['a', '7', '.', ':', '-', 'é', '€', '𝄞', '\u0000']
  const randomText = (length: number): string => Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')

  it('decode to the pairs they were given, for every string and array length class', () => {
    for (const n of [1, 15, 16, 300, 65_536]) {
      const lengths = [0, 1, 10, 11, 31, 85, 86, 100, 300, 21_845, 21_846, 70_000]
      const pairs = Array.from({ length: n }, (_, i) => [
        i < lengths.length ? randomText(lengths[i]!) : randomText(Math.floor(random() * 20)),
        randomText(Math.floor(random() * 12)),
      ]) as [string, string][]
      const fromPairs = commandsBody(pairs)
      const fromList = commandListBody(pairs.map(([address, command], i) => ({ line: i + 1, address, command })))
      // Compared as JSON: vitest's deep equality takes seconds on 65 536 pairs.
      expect(fromList.equals(fromPairs)).toBe(true)
      expect(JSON.stringify(decodeTrusted(fromPairs))).toBe(JSON.stringify(pairs))
      expect(JSON.stringify(new Unpackr({ mapsAsObjects: true }).unpack(fromPairs))).toBe(JSON.stringify(pairs))
      expect(scanCommandPairs(fromPairs, 100_000)).toBe(n)
    }
  })
})

describe('the bytes of a task body', () => {
  // Pinned byte for byte: the shortest standard forms, as the hand-written encoder wrote them before
  // msgpackr took over, so that no reader of this project or another sees a change.
  it('uses fixarray, fixstr, str8 and str16 exactly where the lengths call for them', () => {
    const pairs: [string, string][] = [['a'.repeat(31), 'b'.repeat(32)], ['c'.repeat(255), 'd'.repeat(256)], ['é'.repeat(16), '']]
    const expected = bytes(fixarray(3), fixarray(2), fixstr('a'.repeat(31)), str8('b'.repeat(32)), fixarray(2), str8('c'.repeat(255)), str16('d'.repeat(256)), fixarray(2), str8('é'.repeat(16)), fixstr(''))
    expect(commandsBody(pairs).equals(expected)).toBe(true)
    expect(commandListBody(pairs.map(([address, command]) => ({ address, command }))).equals(expected)).toBe(true)
  })

  it('uses array16 from 16 pairs and array32 above 65 535', () => {
    const pair = ['h', 'c'] as [string, string]
    expect([...commandsBody(Array<[string, string]>(15).fill(pair)).subarray(0, 1)]).toEqual([0x9f])
    expect([...commandsBody(Array<[string, string]>(16).fill(pair)).subarray(0, 3)]).toEqual([0xdc, 0x00, 0x10])
    expect([...commandsBody(Array<[string, string]>(65_536).fill(pair)).subarray(0, 5)]).toEqual([0xdd, 0x00, 0x01, 0x00, 0x00])
  })

  it('is a buffer of its own, not a view of the larger one the encoder reuses (the client keeps it for resends)', () => {
    encode(Array(20_000).fill(['10.0.0.1', 'foo'])) // grows msgpackr's shared buffer well past 8 KiB
    const large = commandsBody(Array<[string, string]>(5_000).fill(['10.0.0.1', 'foo']))
    expect(large.buffer.byteLength).toBe(large.length)
    const small = commandListBody([{ address: '10.0.0.1', command: 'foo' }])
    expect(small.buffer.byteLength).toBeLessThanOrEqual(Buffer.poolSize)
    expect(decodeTrusted(small)).toEqual([['10.0.0.1', 'foo']])
  })
})

describe('undefined in an outgoing message', () => {
  it('is written as nil, which every receiver accepts, not as an extension type', () => {
    expect(decodeTrusted(outcomesBody([[0, undefined]] as never))).toEqual([[0, null]])
    expect(decodeTrusted(outcomesBody([[0, 'text'], [0, undefined]] as never))).toEqual([[0, 'text'], [0, null]])
    expect(decodeUntrusted(encode({ a: undefined }), 1024, 4)).toEqual({ ok: true, value: { a: null } })
  })
})
