/**
 * Syntax of device addresses and command tokens shared by both input files.
 */
import { isIPv4, isIPv6 } from 'node:net'

const HOST_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
const HOSTNAME = new RegExp(`^(?=.{1,253}\\.?$)${HOST_LABEL}(?:\\.${HOST_LABEL})*\\.?$`)
const DOTTED_DIGITS = /^[0-9.]+$/
const COMMAND = /^[A-Za-z0-9_.-]+$/

/** Why `address` is not an IPv4, IPv6 or host name, or `undefined` if it is one. */
export function addressProblem(address: string): string | undefined {
  if (address.length === 0) return 'the address is empty'
  if (isIPv4(address) || isIPv6(address)) return undefined
  // "137.72.95.300" would pass as a host name; it is a mistyped IPv4 address.
  if (DOTTED_DIGITS.test(address)) return `${JSON.stringify(address)} is not a valid IPv4 address`
  if (HOSTNAME.test(address)) return undefined
  return `${JSON.stringify(address)} is not an IPv4, IPv6 or host name address`
}

/** Why `command` is not a `[A-Za-z0-9_.-]+` token, or `undefined` if it is one. */
export function commandProblem(command: string): string | undefined {
  if (command.length === 0) return 'the command is empty'
  return COMMAND.test(command) ? undefined : `command ${JSON.stringify(command)} is not a token of [A-Za-z0-9_.-]`
}

/**
 * Splits `text` into its address and the `fields` colon-separated fields that
 * follow it. Splitting from the right keeps IPv6 addresses whole; an address
 * may also be written in brackets, `[2001:db8::1]:foo`.
 */
export function splitFromRight(text: string, fields: number): { address: string; rest: string[] } | undefined {
  const rest: string[] = []
  let end = text.length
  for (let i = 0; i < fields; i++) {
    const colon = text.lastIndexOf(':', end - 1)
    if (colon < 0) return undefined
    rest.unshift(text.slice(colon + 1, end))
    end = colon
  }
  return { address: unbracketed(text.slice(0, end)), rest }
}

/** `2001:db8::1` for `[2001:db8::1]`; anything else as it is. */
export function unbracketed(address: string): string {
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address
}
