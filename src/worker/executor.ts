/**
 * The device-map executor moved to src/executors/device-map.ts.
 * TODO: goes once src/index.ts and src/cli/run-worker.ts import it from there (issue 10, item 7).
 */
export { deviceMapExecutor } from '../executors/device-map.js'
export type { Executor } from '../executors/types.js'
