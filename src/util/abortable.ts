/**
 * Waiting that Ctrl+C can cut short. A promise that may never settle (an
 * open() of a FIFO with no writer, a user's iterator, a stalled consumer) is
 * raced against an AbortSignal, so whoever waits on it is never held up.
 */

/** `promise`, or `'aborted'` as soon as `signal` aborts, whichever comes first. */
export function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | 'aborted'> {
  if (signal === undefined) return promise
  if (signal.aborted) return Promise.resolve('aborted')
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve('aborted')
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
