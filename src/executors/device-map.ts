/**
 * The simulated devices of a device map file, as an executor module: its
 * default export is the `createExecutor` that `--map FILE` (the built-in
 * `device-map` module, options `{ file }`) loads in every worker. Each
 * `address:command:response:wait` line answers `response` after `wait`.
 */
import { loadDeviceMap, type DeviceMap } from '../data/device-map.js'
import { ConfigError, UnknownCommandError } from '../errors.js'
import type { Executor, ExecutorContext } from './types.js'

/** Options of the `device-map` executor module; JSON, as forked workers receive them. */
export interface DeviceMapExecutorOptions {
  /** The device map file, relative to the working directory. */
  readonly file: string
  /**
   * Refuse to load a map with a bad line, instead of skipping it.
   * @default false
   */
  readonly strict?: boolean
}

/**
 * Loads `options.file` and answers from it. Bad lines are skipped quietly: the
 * gateway (or `run-worker`) that named the file has already logged them once,
 * and every forked worker repeating them would bury the log.
 *
 * @example
 * const executor = await createExecutor({ file: 'devices.txt' }, { workerId: 'w1', logger })
 */
export default async function createExecutor(options: DeviceMapExecutorOptions, context: ExecutorContext): Promise<Executor> {
  const file = (options as Partial<DeviceMapExecutorOptions> | undefined)?.file
  if (typeof file !== 'string' || file.length === 0) {
    throw new ConfigError('ERR_EXECUTOR', 'the device-map executor needs options.file, the path of a device map')
  }
  const map = await loadDeviceMap(file, { strict: options.strict === true })
  context.logger.debug({ mapFile: file, entries: map.size }, 'device map loaded')
  return deviceMapExecutor(map)
}

interface Waiting {
  readonly response: number
  readonly resolve: (value: number) => void
  readonly reject: (reason: unknown) => void
  readonly bucket: Bucket
  readonly onSignal: Set<Waiting>
}

/** Commands due at the same millisecond share one timer. */
interface Bucket {
  readonly due: number
  timer: NodeJS.Timeout | undefined
  readonly waiting: Set<Waiting>
}

/**
 * The simulated devices of a device map: each known address/command answers
 * its `response` after its `wait`. The wait is a timer that the signal
 * cancels, so a cancelled command leaves nothing behind.
 *
 * Two costs are kept off the per-command path:
 * - one abort listener per distinct signal, not per command: the worker passes
 *   the same signal to every command when no time limit is set, and adding a
 *   listener to a signal costs O(listeners) (measured: 5 000 waits on one
 *   signal took 296 ms through timers/promises, 2 ms this way);
 * - one timer per due millisecond, not per command: a batch's commands with
 *   the same wait start within the same millisecond and share it.
 */
export function deviceMapExecutor(map: DeviceMap): Executor {
  const waitingBySignal = new WeakMap<AbortSignal, Set<Waiting>>()
  const buckets = new Map<number, Bucket>()

  const waitingOn = (signal: AbortSignal): Set<Waiting> => {
    let waiting = waitingBySignal.get(signal)
    if (waiting === undefined) {
      const set = new Set<Waiting>()
      waiting = set
      waitingBySignal.set(signal, set)
      signal.addEventListener(
        'abort',
        () => {
          for (const w of set) {
            leave(w.bucket, w)
            w.reject(signal.reason)
          }
          set.clear()
        },
        { once: true },
      )
    }
    return waiting
  }

  const leave = (bucket: Bucket, w: Waiting): void => {
    bucket.waiting.delete(w)
    if (bucket.waiting.size === 0 && bucket.timer !== undefined) {
      clearTimeout(bucket.timer)
      buckets.delete(bucket.due)
    }
  }

  const fire = (bucket: Bucket): void => {
    buckets.delete(bucket.due)
    bucket.timer = undefined
    for (const w of bucket.waiting) {
      w.onSignal.delete(w)
      w.resolve(w.response)
    }
    bucket.waiting.clear()
  }

  const bucketFor = (waitMs: number): Bucket => {
    // The monotonic clock, like the timers: a wall-clock step must not merge unrelated buckets.
    const due = Math.floor(performance.now()) + waitMs
    let bucket = buckets.get(due)
    if (bucket === undefined) {
      const created: Bucket = { due, timer: undefined, waiting: new Set() }
      created.timer = setTimeout(() => fire(created), waitMs)
      buckets.set(due, created)
      bucket = created
    }
    return bucket
  }

  return (address, command, signal) => {
    const entry = map.get(address, command)
    if (entry === undefined) return Promise.reject(new UnknownCommandError(address, command))
    if (signal.aborted) return Promise.reject(signal.reason)
    if (entry.waitMs === 0) return Promise.resolve(entry.response)
    return new Promise((resolve, reject) => {
      const onSignal = waitingOn(signal)
      const w: Waiting = { response: entry.response, resolve, reject, bucket: bucketFor(entry.waitMs), onSignal }
      w.bucket.waiting.add(w)
      onSignal.add(w)
    })
  }
}
