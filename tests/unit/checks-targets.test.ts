/**
 * The `targets` allow-list: IP literals against blocks and single addresses,
 * names against names and globs, never one for the other, and a bad entry
 * refused with a reason.
 */
import { describe, expect, it } from 'vitest'
import { canonicalAddress, createTargets, targetProblem } from '../../src/executors/checks/targets.js'

const targets = createTargets(['127.0.0.0/8', '10.20.0.0/16', '192.0.2.7', '::1', '2001:db8::/32', '*.dc1.example', 'web*.dc2.example', 'db1.example'])

describe('an IP literal', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['10.20.3.4', true],
    ['10.21.0.1', false],
    ['192.0.2.7', true],
    ['192.0.2.8', false],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['2001:db8:ffff::1', true],
    ['2001:db9::1', false],
    ['::ffff:127.0.0.1', true],
    ['::ffff:10.30.0.1', false],
    ['8.8.8.8', false],
    ['fe80::1%eth0', false],
  ])('%s is allowed: %s', (address, allowed) => {
    expect(targets.allows(address)).toBe(allowed)
  })

  // BlockList maps an IPv4 address into ::ffff:0:0/96 when it checks it against an IPv6 rule.
  it.each(['::/0', '::/64', '::/80'])('an IPv6 block %s allows no IPv4 address, mapped or not', (block) => {
    const v6 = createTargets(['127.0.0.0/8', block, '2001:db8::/32'])
    for (const address of ['10.0.0.1', '8.8.8.8', '::ffff:10.0.0.1', '::ffff:808:808']) expect(v6.allows(address)).toBe(false)
    expect(v6.allows('127.0.0.1')).toBe(true)
    expect(v6.allows('::1')).toBe(true)
  })

  it('an entry inside ::ffff:0:0/96 names IPv4 addresses, and allows them in either form', () => {
    const mapped = createTargets(['::ffff:10.0.0.0/104', '::ffff:192.0.2.7'])
    for (const address of ['10.1.2.3', '::ffff:10.1.2.3', '192.0.2.7', '::ffff:c000:207']) expect(mapped.allows(address)).toBe(true)
    for (const address of ['11.0.0.1', '::ffff:11.0.0.1', '192.0.2.8', '::1']) expect(mapped.allows(address)).toBe(false)
  })

  it('never matches a glob, even one that would match its text', () => {
    expect(createTargets(['*.*.*.example', '*']).allows('127.0.0.1')).toBe(false)
  })
})

describe('a host name', () => {
  it.each([
    ['web1.dc1.example', true],
    ['WEB1.DC1.Example', true],
    ['web1.dc1.example.', true],
    ['a.b.dc1.example', false],
    ['dc1.example', false],
    ['evil-dc1.example', false],
    ['web.dc2.example', true],
    ['web-12.dc2.example', true],
    ['db.dc2.example', false],
    ['db1.example', true],
    ['xdb1.example', false],
    ['x_y.dc1.example', false],
    ['-x.dc1.example', false],
    ['localhost', false],
    ['', false],
    ['a/.dc1.example', false],
  ])('%s is allowed: %s', (address, allowed) => {
    expect(targets.allows(address)).toBe(allowed)
  })

  it('is never resolved: localhost is outside 127.0.0.0/8', () => {
    expect(createTargets(['127.0.0.0/8']).allows('localhost')).toBe(false)
  })

  it('matches every one-label name with a lone *', () => {
    const any = createTargets(['*'])
    expect(any.allows('localhost')).toBe(true)
    expect(any.allows('web.example')).toBe(false)
  })

  // getaddrinfo (inet_aton) reads these as IPv4 addresses: 10.1 is 10.0.0.1, 0x0a000001 and 167772161 too.
  it.each(['10.1', '127.1', '0x7f.1', '2130706433', '0x0a000001', '017700000001', '10.0x1', 'web.10', 'web.0x0a', '10.1.'])(
    '%s, an address in a numeric form inet_aton reads, never passes as a name through a glob',
    (address) => {
      expect(createTargets(['127.0.0.0/8', '*', '*.*', '*.*.*']).allows(address)).toBe(false)
    },
  )

  it('still allows a name whose labels hold digits, when its last label is not a number', () => {
    const any = createTargets(['*', '*.*'])
    for (const name of ['db1', '10.example', '0x1f.example', '10-1', 'web.x10']) expect(any.allows(name)).toBe(true)
  })

  it('matches globs with many * in one label in bounded time, whatever the address', () => {
    const glob = '*-*-*-*-*-*-*.dc1.example'
    const many = createTargets([glob, '*.dc2.example'])
    expect(many.allows('a-b-c-d-e-f-g.dc1.example')).toBe(true)
    expect(many.allows('a--b----c-d.dc1.example')).toBe(true)
    expect(many.allows('a-b-c-d-e-f.dc1.example')).toBe(false)
    expect(many.allows('a-b-c-d-e-f-g.x.dc1.example')).toBe(false)
    expect(many.allows('web.dc2.example')).toBe(true)
    // A backtracking regular expression takes seconds on this one (O(n^k) for k stars).
    const crafted = `a${'-'.repeat(61)}a.dc1.examplx`
    const startedAt = performance.now()
    expect(many.allows(crafted)).toBe(false)
    expect(performance.now() - startedAt).toBeLessThan(50)
  })

  it.each([
    ['w*b*.example', 'webhub.example', true],
    ['w*b*.example', 'wb.example', true],
    ['w*b*.example', 'wx.example', false],
    ['*ab.example', 'abab.example', true],
    ['*a*b*c*.example', 'xaybzc.example', true],
    ['*a*b*c*.example', 'xaybz.example', false],
    ['a*.*b.example', 'ax.yb.example', true],
    ['a*.*b.example', 'ax.y.b.example', false],
  ])('glob %s allows %s: %s', (glob, name, allowed) => {
    expect(createTargets([glob]).allows(name)).toBe(allowed)
  })

  it('survives whatever string arrives from the network', () => {
    for (const junk of ['\u0000', 'a'.repeat(10_000), '[', '[]', '[web.example]', '%', '::ffff:999.0.0.1', '1.2.3.4/8']) {
      expect(targets.allows(junk)).toBe(false)
    }
  })
})

describe('a bad entry', () => {
  it.each([
    ['10.0.0.0/33', 'the prefix must be 0 to 32'],
    ['2001:db8::/129', 'the prefix must be 0 to 128'],
    ['10.0.0.0/', 'the prefix must be 0 to 32'],
    ['10.0.0.0/x', 'the prefix must be 0 to 32'],
    ['10.0.0/8', '"10.0.0" is not an IPv4 or IPv6 address'],
    ['10.20.1.0/16', 'host bits set (the block is 10.20.0.0/16)'],
    ['2001:db8::1/32', 'host bits set (the block is 2001:db8::/32)'],
    ['10.0.*.*', 'looks like an address pattern'],
    ['a..b', 'is not a CIDR block, an IP address or a host-name glob'],
    ['web example', 'is not a CIDR block, an IP address or a host-name glob'],
    ['-a.example', 'is not a CIDR block, an IP address or a host-name glob'],
    ['fe80::1%eth0', 'a zone (%) has no place'],
    ['', 'empty'],
  ])('%s: %s', (entry, reason) => {
    expect(targetProblem(entry)).toContain(reason)
    expect(() => createTargets([entry])).toThrow(reason)
  })

  it.each(['0.0.0.0/0', '::/0', '10.0.0.0/8', '2001:db8::/32', '192.0.2.1', '::1', '*.dc1.example', 'db1.example', 'DB1.Example.'])('%s is fine', (entry) => {
    expect(targetProblem(entry)).toBeUndefined()
  })
})

describe('canonicalAddress', () => {
  it.each([
    ['::FFFF:127.0.0.1', '127.0.0.1'],
    ['0:0:0:0:0:ffff:7f00:0001', '127.0.0.1'],
    ['[0::1]', '::1'],
    ['2001:DB8:0:0::1', '2001:db8::1'],
    ['WEB1.Example.', 'web1.example'],
    ['10.0.0.1', '10.0.0.1'],
  ])('%s is %s', (address, canonical) => {
    expect(canonicalAddress(address)).toBe(canonical)
  })
})
