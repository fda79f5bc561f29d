/**
 * Batches by client and id, as two nested maps. A composite string key would
 * need a separator, and any separator can appear inside an untrusted id: with
 * `client\nid`, client `k` with batch `a\nb` and client `k\na` with batch `b`
 * were one key, and the second was dropped as a duplicate of the first.
 */
export class BatchIndex<V> {
  private readonly byClient = new Map<string, Map<string, V>>()
  private count = 0

  get size(): number {
    return this.count
  }

  get(client: string, id: string): V | undefined {
    return this.byClient.get(client)?.get(id)
  }

  /** Whether any entry is of `client`. */
  hasClient(client: string): boolean {
    return this.byClient.has(client)
  }

  has(client: string, id: string): boolean {
    return this.byClient.get(client)?.has(id) === true
  }

  set(client: string, id: string, value: V): void {
    let ids = this.byClient.get(client)
    if (ids === undefined) {
      ids = new Map()
      this.byClient.set(client, ids)
    }
    if (!ids.has(id)) this.count++
    ids.set(id, value)
  }

  /** Removes and returns the entry, if there was one. */
  take(client: string, id: string): V | undefined {
    const ids = this.byClient.get(client)
    const value = ids?.get(id)
    if (ids === undefined || value === undefined) return undefined
    ids.delete(id)
    this.count--
    if (ids.size === 0) this.byClient.delete(client)
    return value
  }

  clear(): void {
    this.byClient.clear()
    this.count = 0
  }
}
