/**
 * The `targets` allow-list of a checks file (checks.md): the addresses a
 * check may reach. Three kinds of entry:
 *
 * - a CIDR block, `10.20.0.0/16` or `2001:db8::/32`;
 * - a single address, `192.0.2.7` or `::1`;
 * - a host name or host-name glob, `db1.example` or `*.dc1.example`.
 *
 * An IP literal is matched against the blocks and single addresses only, a
 * name against the names and globs only. A name is never resolved to check
 * it: `localhost` is outside `["127.0.0.0/8"]`, and names reach the network
 * only when a name entry allows them. (Resolving here would ask DNS for every
 * address a client sends, and the answer could change before the check
 * connects.) An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is its IPv4
 * address: it matches the IPv4 blocks, and entries inside ::ffff:0:0/96; no
 * other IPv6 block matches an IPv4 address (`::/0` allows no IPv4 address).
 *
 * Globs: `*` stands for any run of the characters of a host-name label
 * (letters, digits, `-`), possibly empty, and never for a dot; the name it
 * is matched against must be a valid host name (every label 1 to 63
 * characters, no `-` at either end). So `*.dc1.example` allows
 * `web1.dc1.example` but neither `a.b.dc1.example` (write `*.*.dc1.example`
 * for that) nor `dc1.example`; `web*.dc1.example` allows `web.dc1.example`
 * and `web12.dc1.example`; `*` alone allows every one-label name. Matching
 * is case-insensitive and ignores one trailing dot, as DNS does.
 * A name whose last label is a number (`10.1`, `0x7f.1`, `2130706433`) is
 * an IPv4 address in a form the resolver reads, and never matches a glob.
 */
import { BlockList, isIP, isIPv6 } from 'node:net'

/** What `createTargets` builds: is this address allowed? */
export interface Targets {
  /**
   * True when `address` (an IP literal, bracketed or not, or a host name)
   * is allowed. Never throws, whatever the string.
   */
  allows(address: string): boolean
}

/** Longest entry accepted: a host name is at most 253 characters. */
const MAX_ENTRY = 253
const NAME_LABEL = /^[a-z0-9*-]{1,63}$/
const NUMERIC_LABEL = /^[0-9*]+$/
const HOST_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
const HOST_NAME = new RegExp(`^${HOST_LABEL}(?:\\.${HOST_LABEL})*$`)
/**
 * A last label that getaddrinfo (inet_aton) would read as part of an IPv4
 * address: `10.1`, `0x0a000001` and `2130706433` reach 10.0.0.1 and 127.0.0.1
 * although no block allows them. No real top-level domain is all digits, and
 * the URL standard refuses such hosts as names too, so they are never names.
 */
const NUMERIC_LAST_LABEL = /(?:^|\.)(?:[0-9]+|0x[0-9a-f]*)$/

/** `[::1]` as `::1`; a trailing dot and upper case dropped from a name. */
function normalise(address: string): string {
  if (address.startsWith('[') && address.endsWith(']') && isIPv6(address.slice(1, -1))) return address.slice(1, -1)
  const lower = address.toLowerCase()
  return lower.endsWith('.') ? lower.slice(0, -1) : lower
}

/**
 * One spelling per device, for the per-address queues: a host name in lower
 * case without its trailing dot, an IPv6 address in its canonical form and an
 * IPv4-mapped one as IPv4. Otherwise `::ffff:127.0.0.1`, `[::1]` or
 * `WEB1.example.` would each get a queue of their own, and a client could
 * multiply `per_target` and `rate` against one device by spelling it anew.
 *
 * @example
 * canonicalAddress('::FFFF:127.0.0.1') // '127.0.0.1'
 * canonicalAddress('[0::1]')           // '::1'
 */
export function canonicalAddress(address: string): string {
  const normal = normalise(address)
  if (!isIPv6(normal) || normal.includes('%')) return normal
  // The URL standard serialises an IPv6 host canonically (RFC 5952), and a mapped IPv4 tail in hex.
  const host = new URL(`http://[${normal}]/`).hostname.slice(1, -1)
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host)
  if (mapped === null) return host
  const high = parseInt(mapped[1]!, 16)
  const low = parseInt(mapped[2]!, 16)
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`
}

/** `address` as one number (32 or 128 bits), to test and show a block's host bits. */
function toBigInt(address: string, family: 4 | 6): bigint {
  if (family === 4) return address.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n)
  // Expand `::` and a dotted IPv4 tail into eight 16-bit groups.
  let text = address
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted !== null) {
    const v4 = toBigInt(dotted[1]!, 4)
    text = `${text.slice(0, dotted.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  return groups.reduce((n, group) => (n << 16n) | BigInt(parseInt(group, 16)), 0n)
}

/** The IPv4 block an IPv6 block inside ::ffff:0:0/96 stands for, or `undefined` for any other. */
function mappedBlock(block: Block): Block | undefined {
  if (block.prefix < 96) return undefined
  const value = toBigInt(block.network, 6)
  if (value >> 32n !== 0xffffn) return undefined
  return { network: fromBigInt(value & 0xffffffffn, 4), prefix: block.prefix - 96, type: 'ipv4' }
}

function fromBigInt(value: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.')
  const groups = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16))
  // Not the shortest form, but one the user can paste back: BlockList reads it.
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')
}

interface Block {
  readonly network: string
  readonly prefix: number
  readonly type: 'ipv4' | 'ipv6'
}

/** A CIDR block, or why `entry` (which has a `/`) is not one. */
function parseBlock(entry: string): Block | string {
  const slash = entry.indexOf('/')
  const network = entry.slice(0, slash)
  const bits = entry.slice(slash + 1)
  const family = isIP(network) as 0 | 4 | 6
  if (family === 0) return `${JSON.stringify(entry)} is not a CIDR block: ${JSON.stringify(network)} is not an IPv4 or IPv6 address`
  if (network.includes('%')) return `${JSON.stringify(entry)} is not a CIDR block: a zone (%) has no place in one`
  const max = family === 4 ? 32 : 128
  if (!/^[0-9]{1,3}$/.test(bits) || Number(bits) > max) return `${JSON.stringify(entry)} is not a CIDR block: the prefix must be 0 to ${max}`
  const prefix = Number(bits)
  const width = BigInt(max)
  const value = toBigInt(network, family)
  const hostMask = (1n << (width - BigInt(prefix))) - 1n
  if ((value & hostMask) !== 0n) {
    // 10.20.1.0/16 is most often a typo for 10.20.0.0/16 or 10.20.1.0/24: say which block it would be.
    const meant = `${fromBigInt(value & ~hostMask & ((1n << width) - 1n), family)}/${prefix}`
    return `${JSON.stringify(entry)} is not a CIDR block: it has host bits set (the block is ${meant})`
  }
  return { network, prefix, type: family === 4 ? 'ipv4' : 'ipv6' }
}

/** Why a name or glob entry is not one, or `undefined`. */
function nameProblem(entry: string): string | undefined {
  const name = entry.toLowerCase().replace(/\.$/, '')
  const labels = name.split('.')
  if (name.length === 0 || !labels.every((label) => NAME_LABEL.test(label) && !label.startsWith('-') && !label.endsWith('-'))) {
    return `${JSON.stringify(entry)} is not a CIDR block, an IP address or a host-name glob (letters, digits, -, * and dots)`
  }
  // `10.0.*.*` reads as an address pattern, but a glob never matches an IP literal.
  if (/[0-9]/.test(name) && labels.every((label) => NUMERIC_LABEL.test(label))) {
    return `${JSON.stringify(entry)} looks like an address pattern, but globs match host names only: write a CIDR block (10.0.0.0/16)`
  }
  return undefined
}

/**
 * Why `entry` is not a valid `targets` entry, or `undefined` if it is one.
 *
 * @example
 * targetProblem('10.0.0.0/33') // '"10.0.0.0/33" is not a CIDR block: the prefix must be 0 to 32'
 */
export function targetProblem(entry: string): string | undefined {
  if (entry.length === 0) return 'an entry is empty'
  if (entry.length > MAX_ENTRY) return `an entry is longer than ${MAX_ENTRY} characters`
  if (entry.includes('/')) {
    const block = parseBlock(entry)
    return typeof block === 'string' ? block : undefined
  }
  if (isIP(entry) !== 0) return entry.includes('%') ? `${JSON.stringify(entry)}: a zone (%) has no place in targets` : undefined
  return nameProblem(entry)
}

/**
 * Whether `name` (a valid host name, lower case) matches `glob`, where `*` is
 * any run of characters other than a dot. In O(glob × name) steps: the
 * classic wildcard match, going back only to the last `*`. A backtracking
 * regular expression takes O(name^k) for k stars in a label (a second for
 * `*-*-*-*-*-*-*.example` against a crafted 63-character label).
 */
function globMatches(glob: string, name: string): boolean {
  let g = 0
  let n = 0
  let star = -1
  let mark = 0
  while (n < name.length) {
    if (glob[g] === '*') {
      star = g++
      mark = n
    } else if (g < glob.length && glob[g] === name[n]) {
      g++
      n++
    } else if (star !== -1 && name[mark] !== '.') {
      // The last * takes one more character; a * never takes a dot.
      g = star + 1
      n = ++mark
    } else {
      return false
    }
  }
  while (glob[g] === '*') g++
  return g === glob.length
}

/** A glob a regular expression matches in O(name²) at worst: at most two `*` in any label. */
function isGentleGlob(glob: string): boolean {
  return glob.split('.').every((label) => label.split('*').length <= 3)
}

function globSource(glob: string): string {
  return glob
    .split('*')
    .map((part) => part.replace(/[.\\^$+?()[\]{}|-]/g, '\\$&'))
    .join('[a-z0-9-]*')
}

/**
 * The matcher of a `targets` list. Throws `TypeError` naming the first bad
 * entry (the checks file reader reports those first, with its file name).
 *
 * @example
 * const targets = createTargets(['127.0.0.0/8', '*.dc1.example'])
 * targets.allows('127.0.0.1') // true
 * targets.allows('web1.DC1.example.') // true
 * targets.allows('localhost') // false: names are not resolved
 */
export function createTargets(entries: readonly string[]): Targets {
  // Two lists: checked against an IPv6 rule, BlockList maps an IPv4 address
  // into ::ffff:0:0/96, so ::/0 ("any IPv6") would allow every IPv4 address.
  const v4 = new BlockList()
  const v6 = new BlockList()
  const names: string[] = []
  /** Globs with three or more `*` in a label: matched by {@link globMatches}, not by the expression. */
  const starry: string[] = []
  for (const entry of entries) {
    const problem = targetProblem(entry)
    if (problem !== undefined) throw new TypeError(problem)
    if (entry.includes('/') || isIP(entry) !== 0) {
      const single: Block = isIP(entry) === 4 ? { network: entry, prefix: 32, type: 'ipv4' } : { network: entry, prefix: 128, type: 'ipv6' }
      const block = entry.includes('/') ? (parseBlock(entry) as Block) : single
      const mapped = block.type === 'ipv6' ? mappedBlock(block) : undefined
      if (mapped !== undefined) v4.addSubnet(mapped.network, mapped.prefix, 'ipv4')
      else (block.type === 'ipv4' ? v4 : v6).addSubnet(block.network, block.prefix, block.type)
    } else if (isGentleGlob(normalise(entry))) {
      names.push(globSource(normalise(entry)))
    } else {
      starry.push(normalise(entry))
    }
  }
  // One expression for every name entry: one match per name, however many globs.
  const namePattern = names.length === 0 ? undefined : new RegExp(`^(?:${names.join('|')})$`)
  return {
    allows(address: string): boolean {
      if (typeof address !== 'string' || address.length === 0 || address.length > MAX_ENTRY + 2) return false
      const normal = normalise(address)
      const family = isIP(normal)
      if (family !== 0) {
        // BlockList.check throws on what it cannot parse (a zone, say): outside, then.
        try {
          // An IPv4-mapped address is its IPv4 address: checked against the IPv4 list only.
          const ip = canonicalAddress(normal)
          return isIP(ip) === 4 ? v4.check(ip, 'ipv4') : v6.check(ip, 'ipv6')
        } catch {
          return false
        }
      }
      if (!HOST_NAME.test(normal) || NUMERIC_LAST_LABEL.test(normal)) return false
      return namePattern?.test(normal) === true || starry.some((glob) => globMatches(glob, normal))
    },
  }
}
