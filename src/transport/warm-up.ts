/**
 * Sends and receives a few hundred messages over an in-process socket pair
 * at start-up, through the same Sender and zeromq.js paths that carry
 * batches, so the first real burst runs compiled code. Profiling a fresh
 * worker on the seed scenario showed ~11 ms of its first burst in the first
 * sends alone.
 */
import { randomBytes } from 'node:crypto'
import { Pull, Push } from 'zeromq'
import { commandsBody, taskFrame } from '../protocol/frames.js'
import { Sender } from './sender.js'

/** Runs `messages` two-frame messages through an inproc PUSH→PULL pair. */
export async function warmUpTransport(messages = 256): Promise<void> {
  const endpoint = `inproc://warm-up-${randomBytes(4).toString('hex')}`
  const pull = new Pull({ linger: 0 })
  const push = new Push({ linger: 0 })
  try {
    await pull.bind(endpoint)
    push.connect(endpoint)
    const sender = new Sender(push, endpoint, { retries: 0, retryDelayMs: 1000 })
    const body = commandsBody([['127.0.0.1', 'warm-up']])
    for (let i = 0; i < messages; i++) {
      await sender.send([taskFrame(String(i), 'warm-up', 'tcp://127.0.0.1:1', 1), body])
      await pull.receive()
    }
    sender.close()
  } finally {
    push.close()
    pull.close()
  }
}
