import { describe, expect, it } from 'vitest'
import { ExternalMemoryBudget } from '../../src/util/external-memory.js'

describe('ExternalMemoryBudget', () => {
  it('asks for one collection per budget of bytes received, and none before', () => {
    let collections = 0
    const budget = new ExternalMemoryBudget(1000, () => collections++)
    for (let i = 0; i < 9; i++) budget.received(100)
    expect(collections).toBe(0)
    budget.received(100)
    expect(collections).toBe(1)
    for (let i = 0; i < 25; i++) budget.received(100)
    expect([collections, budget.collections]).toEqual([3, 3])
  })

  it('only counts where no collector is available', () => {
    const budget = new ExternalMemoryBudget(10, null)
    budget.received(1_000_000)
    expect(budget.collections).toBe(0)
  })
})
