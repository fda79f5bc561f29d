/**
 * The worker's result delivery (ResultDelivery): the result goes to the
 * batch's replyTo, then `done` to the gateway; a result the client does not
 * accept is counted and logged. Both ends are played by hand: the client's
 * socket accepts or refuses each message when the test says so.
 */
import { describe, expect, it } from 'vitest'
import { ResultDelivery, UNDELIVERED_PER_SLOT, type SettledBatch } from '../../src/worker/result-delivery.js'
import { decodeTrusted } from '../../src/protocol/codec.js'
import type { CommandOutcome } from '../../src/protocol/types.js'

/** The client end: each send waits until the test accepts or refuses it. */
function handReplies() {
  const sent: { endpoint: string; header: unknown; body: unknown; accept: () => void; refuse: (error: Error) => void }[] = []
  return {
    sent,
    send(endpoint: string, frames: Buffer[]): Promise<void> {
      return new Promise((resolve, reject) => {
        sent.push({ endpoint, header: decodeTrusted(frames[0]!), body: decodeTrusted(frames[1]!), accept: resolve, refuse: reject })
      })
    },
  }
}

function bench(capacity = 4) {
  const replies = handReplies()
  /** What reached the gateway, and where the client end stood then. */
  const events: string[] = []
  const warnings: { fields: Record<string, unknown>; message: string }[] = []
  const counters = { resultsDropped: 0 }
  const delivery = new ResultDelivery({
    workerId: 'w1',
    capacity,
    replies,
    done: (id, client, session) => {
      events.push(`done ${id} ${client} session ${session}`)
      return Promise.resolve()
    },
    droppedLog: { warn: (fields, message) => warnings.push({ fields, message }) },
    counters,
  })
  return { delivery, replies, events, warnings, counters }
}

function batch(id: string, outcomes: CommandOutcome[], session = 1): SettledBatch {
  return { header: { v: 1, type: 'task', id, client: 'c1', replyTo: 'tcp://127.0.0.1:5556', attempt: 2 }, session, outcomes }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('a settled batch', () => {
  it("goes to its replyTo as one result, one [code, value] per command in order, under the worker's id and the attempt", async () => {
    const { delivery, replies } = bench()
    const delivered = delivery.deliver(batch('b1', [[0, 5], [1, null], [2, 'no'], [3, null]]))
    expect(replies.sent).toHaveLength(1)
    expect(replies.sent[0]).toMatchObject({
      endpoint: 'tcp://127.0.0.1:5556',
      header: { v: 1, type: 'result', id: 'b1', client: 'c1', worker: 'w1', attempt: 2 },
      body: [[0, 5], [1, null], [2, 'no'], [3, null]],
    })
    replies.sent[0]!.accept()
    expect(await delivered).toBe(true)
  })

  it('is followed by done once the result is queued for the client, before the client accepted it', async () => {
    const { delivery, replies, events } = bench()
    const delivered = delivery.deliver(batch('b1', [[0, 1]], 3))
    await tick()
    expect(events).toEqual(['done b1 c1 session 3'])
    expect(delivery.waiting).toBe(1)
    replies.sent[0]!.accept()
    await delivered
    expect(delivery.waiting).toBe(0)
    expect(events).toHaveLength(1)
  })

  it('releases its outcomes as soon as the body is encoded', () => {
    const { delivery } = bench()
    const settled = batch('b1', [[0, 1]])
    void delivery.deliver(settled)
    expect(settled.outcomes).toEqual([])
  })

  it('reports a value MessagePack cannot carry as failed (code 2), not a lost batch', async () => {
    const { delivery, replies } = bench()
    void delivery.deliver(batch('b1', [[0, 1n << 70n], [1, null]]))
    const body = replies.sent[0]!.body as CommandOutcome[]
    expect(body[0]![0]).toBe(2)
    expect(body[0]![1]).toMatch(/^response not encodable: /)
    expect(body[1]).toEqual([1, null])
  })
})

describe('results waiting for slow clients', () => {
  it(`get done at once up to ${UNDELIVERED_PER_SLOT} × capacity; beyond that done waits for the client`, async () => {
    const capacity = 1
    const { delivery, replies, events } = bench(capacity)
    const bound = UNDELIVERED_PER_SLOT * capacity
    const deliveries = Array.from({ length: bound + 1 }, (_, i) => delivery.deliver(batch(`b${i}`, [[0, i]])))
    await tick()
    expect(events).toEqual(Array.from({ length: bound }, (_, i) => `done b${i} c1 session 1`))
    replies.sent[bound]!.accept()
    await deliveries[bound]
    expect(events.at(-1)).toBe(`done b${bound} c1 session 1`)
    for (const sent of replies.sent) sent.accept()
    await Promise.all(deliveries)
  })
})

describe('a result the client does not accept', () => {
  it('is dropped: counted, logged with the batch and the cause, and the gateway still gets its done', async () => {
    const { delivery, replies, events, warnings, counters } = bench()
    const delivered = delivery.deliver(batch('b1', [[0, 1]]))
    replies.sent[0]!.refuse(new Error('peer gone'))
    expect(await delivered).toBe(false)
    expect(counters.resultsDropped).toBe(1)
    expect(warnings).toEqual([
      { fields: { id: 'b1', client: 'c1', replyTo: 'tcp://127.0.0.1:5556', err: 'peer gone' }, message: 'result dropped: the client did not accept it' },
    ])
    expect(events).toEqual(['done b1 c1 session 1'])
  })
})
