/**
 * Runs every encode, scan and validation path at start-up. V8 compiles a
 * function lazily on its first call and optimises it only after many; a
 * fresh gateway or worker otherwise pays that on its first burst of batches
 * (profiled: ~30 ms of CPU per process for the seed's 32 batches).
 */
import { decodeTrusted } from './codec.js'
import {
  HEARTBEAT_FRAME,
  abortFrame,
  byeFrame,
  commandsBody,
  doneFrame,
  outcomesBody,
  readyFrame,
  rejectedFrame,
  resultFrame,
  taskFrame,
} from './frames.js'
import { scanCommandPairs } from './msgpack-scan.js'
import {
  validateClientInboundHeader,
  validateGatewayHeader,
  validateIntakeHeader,
  validateWorkerHeader,
} from './validate.js'

let warmed = false

/** Exercises the codec `rounds` times, once per process; later calls do nothing. */
export function warmUpCodec(rounds = 1): void {
  if (warmed) return
  warmed = true
  for (let i = 0; i < rounds; i++) warmUpRound()
}

function warmUpRound(): void {
  const task = taskFrame('1', 'warm-up', 'tcp://127.0.0.1:1', 1)
  const body = commandsBody([['127.0.0.1', 'warm-up']])
  validateIntakeHeader(task)
  validateIntakeHeader(abortFrame('warm-up'))
  validateGatewayHeader(task)
  validateGatewayHeader(HEARTBEAT_FRAME)
  scanCommandPairs(body, 1)
  decodeTrusted(body)
  validateWorkerHeader(readyFrame('warm-up', 1))
  validateWorkerHeader(doneFrame('1', 'warm-up'))
  validateWorkerHeader(byeFrame('warm-up'))
  validateClientInboundHeader(resultFrame('1', 'warm-up', 'warm-up', 1))
  validateClientInboundHeader(rejectedFrame('1', 'warm-up', 'malformed', false))
  decodeTrusted(outcomesBody([[0, 1]]))
}
