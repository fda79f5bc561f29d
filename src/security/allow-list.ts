/**
 * An allow-list directory held for a ZAP handler: read once at start, read
 * again on {@link AllowList.reload} (the gateway's SIGHUP). A re-read that
 * fails keeps the keys it had, so a half-copied directory or a typo in a
 * certificate never locks everyone out. The ZAP handler asks on every
 * handshake, so new connections use the new keys; connections already made
 * stay (CURVE authenticates a connection once, when it is made).
 */
import { errorMessage } from '../errors.js'
import { readAllowList } from './certificates.js'

/** What a reload did to one list. */
export type AllowListReload =
  | { readonly dir: string; readonly ok: true; readonly keys: number; readonly added: number; readonly removed: number }
  | { readonly dir: string; readonly ok: false; readonly keys: number; readonly error: string }

export class AllowList {
  private reading: Promise<unknown> = Promise.resolve()

  private constructor(
    /** The directory, or `undefined` for a list of only the `always` keys. */
    readonly dir: string | undefined,
    private keys: ReadonlySet<string>,
    private readonly always: ReadonlySet<string>,
  ) {}

  /**
   * Reads `dir` (every `*.key` in it; see readAllowList). `always` are keys
   * allowed whatever the directory holds: the gateway's own on its worker
   * port, which its forked workers present. Throws ConfigError
   * `ERR_CERTIFICATE` naming the directory or the bad file.
   */
  static async read(dir: string | undefined, always: readonly string[] = []): Promise<AllowList> {
    const keys = dir === undefined ? new Set<string>() : await readAllowList(dir)
    return new AllowList(dir, keys, new Set(always))
  }

  /** Keys read from the directory (the `always` ones not counted). */
  get size(): number {
    return this.keys.size
  }

  /** Whether a peer presenting `publicKey` (Z85) may connect. */
  allows(publicKey: string): boolean {
    return this.keys.has(publicKey) || this.always.has(publicKey)
  }

  /**
   * Reads the directory again and, if that works, uses what it holds from the
   * next handshake on. Never rejects: a failure is returned, and the old keys
   * stay. Reloads run one after the other, so the last one asked for wins.
   */
  reload(): Promise<AllowListReload | undefined> {
    const next = this.reading.then(() => this.readAgain())
    this.reading = next
    return next
  }

  private async readAgain(): Promise<AllowListReload | undefined> {
    const dir = this.dir
    if (dir === undefined) return undefined
    let keys: ReadonlySet<string>
    try {
      keys = await readAllowList(dir)
    } catch (error) {
      return { dir, ok: false, keys: this.keys.size, error: errorMessage(error) }
    }
    let added = 0
    for (const key of keys) if (!this.keys.has(key)) added++
    const removed = this.keys.size - (keys.size - added)
    this.keys = keys
    return { dir, ok: true, keys: keys.size, added, removed }
  }
}
