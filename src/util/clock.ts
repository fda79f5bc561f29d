/**
 * Time as the pure cores see it: milliseconds from an arbitrary origin, of
 * which only differences mean anything. Cores take a clock (or `now`) as a
 * parameter so their tests run on fake time; the adapters pass the real one.
 */
export type Clock = () => number

/** The monotonic clock: a wall-clock step never makes a peer look dead or a deadline pass. */
export const monotonicClock: Clock = () => performance.now()
