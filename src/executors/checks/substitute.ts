/**
 * `{address}` substitution (checks.md): the command's address replaces every
 * `{address}` in an `exec` argument or an `http` URL. Plain string
 * replacement, never a shell, so an address can only ever be one argument's
 * text. In a URL an IPv6 address goes in brackets, as RFC 3986 writes a host.
 */
import { isIPv6 } from 'node:net'

const PLACEHOLDER = '{address}'

/** `arg` with every `{address}` replaced by `address`. */
export function substituteArg(arg: string, address: string): string {
  return arg.includes(PLACEHOLDER) ? arg.split(PLACEHOLDER).join(address) : arg
}

/**
 * The URL of an `http` check for `address`, parsed: an IPv6 address is
 * bracketed. Throws `TypeError` when the result is not a valid URL.
 *
 * @example
 * substituteUrl('http://{address}:8080/health', '::1').href // 'http://[::1]:8080/health'
 */
export function substituteUrl(template: string, address: string): URL {
  // encodeURI escapes the brackets themselves, so an IPv6 host is taken as it is, bracketed.
  const host = isIPv6(address) ? `[${address}]` : encodeURI(address) === address ? address : encodeURIComponent(address)
  return new URL(template.split(PLACEHOLDER).join(host))
}
