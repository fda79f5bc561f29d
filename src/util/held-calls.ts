/**
 * Calls held back while something is under way and run, in order, on a
 * later turn of the event loop. The gateway holds its events while `start()`
 * runs: an event raised inside it would otherwise reach only the listeners
 * attached before `start()` was called, and one attached right after
 * `await gateway.start()` would never fire.
 */
export class HeldCalls {
  private held: (() => void)[] | undefined

  /** Holds every call from now until the returned `release` has been called and the loop has turned. */
  hold(): () => void {
    const held: (() => void)[] = (this.held ??= [])
    return () => {
      // setImmediate runs after the continuation of whoever awaited the held work, and after
      // any microtask queued before it: a listener they attach synchronously is in place by then.
      setImmediate(() => {
        // A call that throws (a listener's error) must neither strand the calls after it
        // nor leave every later call held for ever; its error is rethrown once all ran.
        let failure: { error: unknown } | undefined
        for (let i = 0; i < held.length; i++) {
          try {
            held[i]!()
          } catch (error) {
            failure ??= { error }
          }
        }
        if (this.held === held) this.held = undefined
        if (failure !== undefined) throw failure.error
      })
    }
  }

  /** Runs `call` now, or holds it. */
  run(call: () => void): void {
    if (this.held !== undefined) this.held.push(call)
    else call()
  }
}
