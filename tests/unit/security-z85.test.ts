/**
 * Z85 (ZeroMQ RFC 32) against the RFC's own vectors and the keys of the
 * zmq_curve man page: the ZAP handler turns a peer's 32 raw key bytes into the
 * Z85 text an allow-list holds, so one wrong character would refuse everyone.
 */
import { describe, expect, it } from 'vitest'
import { isZ85Key, z85Decode, z85Encode } from '../../src/security/z85.js'

/** RFC 32's 8-byte test vector. */
const HELLO = { bytes: Buffer.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]), text: 'HelloWorld' }

/** The server secret key of the zmq_curve man page (libzmq's tests/test_security_curve.cpp), raw and Z85. */
const SERVER_SECRET = {
  bytes: Buffer.from([
    0x8e, 0x0b, 0xdd, 0x69, 0x76, 0x28, 0xb9, 0x1d, 0x8f, 0x24, 0x55, 0x87, 0xee, 0x95, 0xc5, 0xb0, 0x4d, 0x48, 0x96, 0x3f, 0x79, 0x25, 0x98, 0x77, 0xb4, 0x9c,
    0xd9, 0x06, 0x3a, 0xea, 0xd3, 0xb7,
  ]),
  text: 'JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6',
}

/** The other keys of that man page: every one a valid 40-character key. */
const MAN_PAGE_KEYS = ['Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID', 'D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs', 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7', SERVER_SECRET.text]

describe('z85Encode and z85Decode on the RFC 32 vectors', () => {
  it.each([
    ['the 8-byte vector', HELLO],
    ['a 32-byte CURVE key', SERVER_SECRET],
  ])('%s encodes to its text and decodes back to its bytes', (_, { bytes, text }) => {
    expect(z85Encode(bytes)).toBe(text)
    expect(z85Decode(text).equals(bytes)).toBe(true)
  })

  it.each([
    [[0, 0, 0, 0], '00000'],
    [[0xff, 0xff, 0xff, 0xff], '%nSc0'],
    [[0, 0, 0, 85], '00010'],
    [[], ''],
  ])('%j ↔ %j (the ends of the 32-bit range, the first carry, nothing)', (bytes, text) => {
    expect(z85Encode(Uint8Array.from(bytes))).toBe(text)
    expect([...z85Decode(text)]).toEqual(bytes)
  })

  it('encodes a view into a larger buffer by its own offset and length', () => {
    const larger = Buffer.concat([Buffer.from([1, 2, 3]), HELLO.bytes, Buffer.from([4])])
    expect(z85Encode(larger.subarray(3, 11))).toBe(HELLO.text)
  })

  it('round-trips every byte value, and decoding any valid key and encoding it again gives the same text', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    expect(z85Decode(z85Encode(all)).equals(all)).toBe(true)
    for (const key of MAN_PAGE_KEYS) {
      const raw = z85Decode(key)
      expect(raw.length).toBe(32)
      expect(z85Encode(raw)).toBe(key)
    }
  })
})

describe('z85 refuses what is not Z85', () => {
  it.each([[3], [5], [33]])('encoding %i bytes (not a multiple of 4) throws a RangeError', (length) => {
    expect(() => z85Encode(new Uint8Array(length))).toThrow(RangeError)
  })

  it.each([
    ['a length that is not a multiple of 5', 'Hello Worl'.slice(0, 9)],
    ['a space, outside the alphabet', 'Hello orld'],
    ['a quote, outside the alphabet', 'Hello"orld'],
    ['a group above 2³²−1 (%nSc1)', '%nSc1'],
    ['the largest group of five (#####)', '#####'],
  ])('decoding %s throws a RangeError', (_, text) => {
    expect(() => z85Decode(text)).toThrow(RangeError)
  })
})

describe('isZ85Key', () => {
  it('accepts the 40-character keys of the man page', () => {
    for (const key of MAN_PAGE_KEYS) expect(isZ85Key(key)).toBe(true)
  })

  it.each([
    ['39 characters', SERVER_SECRET.text.slice(1)],
    ['41 characters', `${SERVER_SECRET.text}0`],
    ['a character outside the alphabet', `${SERVER_SECRET.text.slice(0, 39)}"`],
    ['a space', `${SERVER_SECRET.text.slice(0, 39)} `],
    ['the 32 raw bytes', SERVER_SECRET.bytes.toString('latin1')],
    ['the empty string', ''],
    ['not a string', 42],
    ['a Buffer holding the text', Buffer.from(SERVER_SECRET.text)],
  ])('refuses %s', (_, value) => {
    expect(isZ85Key(value)).toBe(false)
  })
})
