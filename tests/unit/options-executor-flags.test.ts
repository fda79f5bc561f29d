/**
 * The executor flags from several sources: a higher-precedence --map
 * replaces a lower source's executor together with that executor's options.
 */
import { describe, expect, it } from 'vitest'
import { executorFromFlags } from '../../src/options/executor.js'

const MAP = { module: 'device-map', options: { file: 'm.txt' } }

describe('--map over an executor from a lower source', () => {
  it("drops that executor's options from the same or a lower source", () => {
    expect(executorFromFlags({ mapFile: 'm.txt', executorModule: './x.mjs', executorOptions: { tag: 1 } }, { mapFile: 'flag', executorModule: 'config', executorOptions: 'config' })).toEqual(MAP)
    expect(executorFromFlags({ mapFile: 'm.txt', executorModule: './x.mjs', executorOptions: { tag: 1 } }, { mapFile: 'env', executorModule: 'config', executorOptions: 'config' })).toEqual(MAP)
  })

  it('still refuses --executor-options given beside --map in the same source', () => {
    expect(() => executorFromFlags({ mapFile: 'm.txt', executorModule: './x.mjs', executorOptions: { tag: 1 } }, { mapFile: 'flag', executorModule: 'config', executorOptions: 'flag' })).toThrow(
      '--executor-options needs --executor MODULE',
    )
  })
})
