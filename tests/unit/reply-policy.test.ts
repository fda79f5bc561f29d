/**
 * The replyTo policy (`--reply-allow`) as a table: which endpoints each list
 * lets the gateway and its workers connect to, and how a bad list is refused.
 */
import { describe, expect, it } from 'vitest'
import { createReplyPolicy, replyAllowProblem, splitReplyAllow } from '../../src/security/reply-policy.js'

describe('createReplyPolicy(entries).allows(replyTo)', () => {
  it.each([
    [['10.0.0.0/8'], 'tcp://10.1.2.3:5556', true],
    [['10.0.0.0/8'], 'tcp://11.0.0.1:5556', false],
    [['10.0.0.0/8'], 'tcp://[::ffff:10.0.0.1]:5556', true],
    [['10.0.0.0/8'], 'tcp://localhost:5556', false],
    [['10.0.0.0/8'], 'ipc:///tmp/results.sock', false],
    [['127.0.0.1'], 'tcp://127.0.0.1:1', true],
    [['127.0.0.1'], 'tcp://127.0.0.2:1', false],
    [['::1'], 'tcp://[::1]:5556', true],
    [['2001:db8::/32'], 'tcp://[2001:db8::5]:5556', true],
    [['2001:db8::/32'], 'tcp://[2001:db9::5]:5556', false],
    [['*.dc1.example'], 'tcp://web1.dc1.example:5556', true],
    [['*.dc1.example'], 'tcp://WEB1.DC1.Example:5556', true],
    [['*.dc1.example'], 'tcp://a.b.dc1.example:5556', false],
    [['*.dc1.example'], 'tcp://dc1.example:5556', false],
    [['*.dc1.example'], 'tcp://10.0.0.1:5556', false],
    [['ipc'], 'ipc:///tmp/results.sock', true],
    [['IPC'], 'ipc://@abstract-name', true],
    [['ipc'], 'tcp://127.0.0.1:5556', false],
    [['ipc.'], 'ipc:///tmp/results.sock', false],
    [['ipc.'], 'tcp://ipc:5556', true],
    [['10.0.0.0/8', '*.dc1.example', 'ipc'], 'tcp://db.dc1.example:1', true],
    [['10.0.0.0/8', '*.dc1.example', 'ipc'], 'tcp://192.0.2.1:1', false],
    // Binding wildcards and unspecified addresses are no host to connect to.
    [['0.0.0.0/0', '*', '::/0'], 'tcp://*:5556', false],
    [['0.0.0.0/0'], 'tcp://0.0.0.0:5556', false],
    [['::/0'], 'tcp://[::]:5556', false],
    [['::/0'], 'tcp://[::ffff:0.0.0.0]:5556', false],
    [['0.0.0.0/0'], 'tcp://1.2.3.4:5556', true],
    // Not a connect endpoint CGP/1 knows, or ZeroMQ's source;destination form: outside.
    [['0.0.0.0/0', '*'], 'tcp://10.0.0.1:5;10.0.0.2:6', false],
    [['0.0.0.0/0', '*'], 'tcp://eth0;10.0.0.2:6', false],
    [['0.0.0.0/0', '*'], 'udp://10.0.0.1:5556', false],
    [['0.0.0.0/0', '*'], 'inproc://results', false],
    [['0.0.0.0/0', '*'], 'tcp://10.0.0.1', false],
    [['0.0.0.0/0', '*'], '', false],
  ] as const)('%j allows %s: %s', (entries, endpoint, allowed) => {
    expect(createReplyPolicy(entries).allows(endpoint)).toBe(allowed)
  })

  it('never throws on what is not a string', () => {
    const policy = createReplyPolicy(['0.0.0.0/0'])
    for (const value of [undefined, null, 5, {}, ['tcp://1.2.3.4:5']]) expect(policy.allows(value as unknown as string)).toBe(false)
  })
})

describe('a bad --reply-allow list', () => {
  it.each([
    [[], 'the list is empty (leave it out to allow every replyTo)'],
    [['10.0.0.0/33'], '"10.0.0.0/33" is not a CIDR block: the prefix must be 0 to 32'],
    [['10.20.1.0/16'], '"10.20.1.0/16" is not a CIDR block: it has host bits set (the block is 10.20.0.0/16)'],
    [['ipc', '10.0.*.*'], '"10.0.*.*" looks like an address pattern, but globs match host names only: write a CIDR block (10.0.0.0/16)'],
    [['tcp://10.0.0.1:5556'], '"tcp://10.0.0.1:5556" is not a CIDR block: "tcp:" is not an IPv4 or IPv6 address'],
  ] as const)('%j is refused: %s', (entries, message) => {
    expect(() => createReplyPolicy(entries)).toThrow(message)
    if (entries.length > 0) expect(entries.map(replyAllowProblem).find((p) => p !== undefined)).toBe(message)
  })

  it('splits on commas and white space, dropping empty parts', () => {
    expect(splitReplyAllow('10.0.0.0/8, *.dc1.example,,ipc ')).toEqual(['10.0.0.0/8', '*.dc1.example', 'ipc'])
  })
})
