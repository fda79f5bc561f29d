#!/usr/bin/env node
// util/deque.ts (a ring buffer) against a plain Array used as a queue
// (push / shift / unshift), in the ways the gateway's dispatch queue, the
// worker's CommandSlots and the send queues use it.
//
//   npm run build && node bench/micro/deque.mjs [--rounds 15] [--warmup 3] [--round-ms 40]
//
// One operation is one full pattern on a queue that already holds `depth`
// items (built once per case, so only the steady state is timed):
//   fifo    push one, shift one (the queue stays at `depth`);
//   burst   push 1 000, then shift them all (a batch of work arrives and drains);
//   requeue shift one, unshift it back (a batch handed back to the front), then shift and push it.
import { Deque } from '../../dist/util/deque.js'
import { assertSame, options, run } from './lib/measure.mjs'

const settings = options()

function filled(kind, depth) {
  const q = kind === 'deque' ? new Deque() : []
  for (let i = 0; i < depth; i++) q.push({ seq: i })
  return q
}

const item = { seq: -1 }
const patterns = {
  fifo: (q) => {
    q.push(item)
    return q.shift()
  },
  burst: (q) => {
    for (let i = 0; i < 1000; i++) q.push(item)
    let last
    for (let i = 0; i < 1000; i++) last = q.shift()
    return last
  },
  requeue: (q) => {
    const head = q.shift()
    q.unshift(head)
    q.push(q.shift())
    return head
  },
}

const cases = []
for (const [pattern, fn] of Object.entries(patterns)) {
  for (const depth of [0, 16, 1_000, 100_000]) {
    if (pattern === 'requeue' && depth === 0) continue
    const deque = filled('deque', depth)
    const array = filled('array', depth)
    // Same items come out of both, in the same order.
    const a = filled('deque', depth)
    const b = filled('array', depth)
    for (let i = 0; i < 3; i++) assertSame(`${pattern} at ${depth}`, fn(a), fn(b))
    cases.push({ name: `${pattern}, depth ${depth.toLocaleString('en')}`, sides: { hand: () => fn(deque), array: () => fn(array) } })
  }
}

run('Queue: hand = util/deque.ts Deque, array = a plain Array (push / shift / unshift)', cases, settings)
