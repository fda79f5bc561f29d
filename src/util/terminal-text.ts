/**
 * Text that is safe to print on an operator's terminal. Strings from the
 * network (client and worker ids, endpoints, reasons) or from input files can
 * hold escape sequences that recolour, retitle, clear or rewrite the screen,
 * and bidi or invisible characters that make one id look like another.
 * {@link terminalSafe} shows each such character as a visible escape instead.
 */

/**
 * Characters shown as escapes: controls (C0, DEL, C1: `\p{Cc}`), format
 * characters (bidi overrides and isolates, zero-width spaces and joiners, the
 * BOM, tag characters: `\p{Cf}`), the line and paragraph separators, and lone
 * surrogates.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u
const UNSAFE_GLOBAL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu
const UNSAFE_OR_BACKSLASH = /[\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u
const UNSAFE_OR_BACKSLASH_GLOBAL = /[\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu

export interface TerminalSafeOptions {
  /**
   * Longest text kept, in UTF-16 units of the input; the rest is cut and
   * counted (`…(+N chars)`).
   * @default no limit
   */
  readonly maxLength?: number
  /**
   * Also write `\` as `\\`, so that an escape in the output always stands for
   * the character it names (an id spelled `a\x1b` cannot pass for one holding
   * ESC). Leave it off for messages that already hold JSON-escaped text.
   * @default true
   */
  readonly escapeBackslash?: boolean
}

function escapeOne(char: string): string {
  if (char === '\\') return '\\\\'
  const code = char.codePointAt(0)!
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`
  return `\\u{${code.toString(16)}}`
}

/**
 * `text` with every control, format (bidi, invisible) and separator
 * character written as a visible escape: ESC as `\x1b`, U+202E as `\u202e`,
 * U+E0041 as `\u{e0041}`. Printable text, including non-ASCII letters, is
 * kept as it is.
 *
 * @example
 * terminalSafe('evil\x1b[2J')           // 'evil\\x1b[2J'
 * terminalSafe('a'.repeat(500), { maxLength: 100 })  // 100 a's, then '…(+400 chars)'
 */
export function terminalSafe(text: string, options: TerminalSafeOptions = {}): string {
  const max = options.maxLength ?? Number.POSITIVE_INFINITY
  let kept = text
  let cut = 0
  if (text.length > max) {
    let end = Math.max(0, Math.floor(max))
    // Do not split a surrogate pair.
    const last = text.charCodeAt(end - 1)
    if (end > 0 && last >= 0xd800 && last <= 0xdbff) end--
    kept = text.slice(0, end)
    cut = text.length - end
  }
  const backslash = options.escapeBackslash ?? true
  const test = backslash ? UNSAFE_OR_BACKSLASH : UNSAFE
  const safe = test.test(kept) ? kept.replace(backslash ? UNSAFE_OR_BACKSLASH_GLOBAL : UNSAFE_GLOBAL, escapeOne) : kept
  return cut > 0 ? `${safe}…(+${cut} chars)` : safe
}

/**
 * A value of unknown type (a field of an untrusted message) as safe text:
 * numbers and booleans as they print, strings through {@link terminalSafe},
 * anything else as its JSON (bounded).
 */
export function terminalSafeValue(value: unknown, maxLength = 200): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  if (typeof value === 'string') return terminalSafe(value, { maxLength })
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch {
    json = undefined
  }
  return terminalSafe(json ?? String(value), { maxLength })
}

/**
 * C1 controls (U+0080–U+009F, U+009B is a CSI on many terminals), bidi and
 * invisible formatting characters, and the line and paragraph separators:
 * JSON.stringify leaves them raw, since JSON allows them.
 */
const JSON_UNSAFE = /[\u0080-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/g

/**
 * `JSON.stringify(value)` with every character a terminal could act on
 * written as a `\uXXXX` escape: the same JSON to a parser, and safe to print
 * on a terminal even when its strings came from the network.
 */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
