/**
 * The `recent` lines of formatStatus (what `gateway-status` and `--watch`
 * print): each rate's last minute as a sparkline, with now, average and peak.
 */
import { describe, expect, it } from 'vitest'
import { formatStatus, type GatewayStatus } from '../../src/gateway/status.js'

const base = { uptimeMs: 1000, endpoint: 'tcp://127.0.0.1:5557', workersEndpoint: 'ipc:///tmp/w.sock', workers: [], counters: {} } as unknown as GatewayStatus

/** The lines from `recent` on. */
function recentLines(recent: unknown): string[] {
  const lines = formatStatus({ ...base, recent } as GatewayStatus).split('\n')
  const first = lines.findIndex((line) => line.startsWith('recent'))
  return first === -1 ? [] : lines.slice(first)
}

describe('formatStatus of a gateway with recent rates', () => {
  it('prints batches/s and commands/s: a sparkline scaled to the peak, then now, average and peak', () => {
    expect(recentLines({ intervalMs: 1000, batchesPerSecond: [0, 1, 2, 4, 8], receivedPerSecond: [1, 1, 1, 1, 1], commandsPerSecond: [0, 16, 32, 64, 128] })).toEqual([
      'recent    batches/s  ▁▂▃▅█  now 8 · avg 3 · peak 8 (last 5 s)',
      '          commands/s ▁▂▃▅█  now 128 · avg 48 · peak 128 (last 5 s)',
    ])
  })

  it('prints a flat line for an idle minute, and leaves out a rate the gateway does not count', () => {
    expect(recentLines({ intervalMs: 1000, batchesPerSecond: Array.from({ length: 60 }, () => 0), receivedPerSecond: [] })).toEqual([
      `recent    batches/s  ${'▁'.repeat(60)}  now 0 · avg 0 · peak 0 (last 60 s)`,
    ])
  })

  it('rounds rates: two decimals under 10, one under 100, none above', () => {
    expect(recentLines({ intervalMs: 1000, batchesPerSecond: [0.333, 12.345, 1234.5], receivedPerSecond: [] })[0]).toBe('recent    batches/s  ▁▁█  now 1235 · avg 416 · peak 1235 (last 3 s)')
    expect(recentLines({ intervalMs: 1000, batchesPerSecond: [0.333, 12.345], receivedPerSecond: [] })[0]).toBe('recent    batches/s  ▁█  now 12.3 · avg 6.34 · peak 12.3 (last 2 s)')
  })

  it('prints nothing for a gateway from before recent rates, or none yet', () => {
    expect(recentLines(undefined)).toEqual([])
    expect(recentLines({ intervalMs: 1000, batchesPerSecond: [], receivedPerSecond: [] })).toEqual([])
  })

  it('counts what is not a rate as 0, and shows at most the last 60 entries', () => {
    const hostile = ['\x1b[2J', -5, Number.NaN, null, { a: 1 }, 4]
    const lines = recentLines({ intervalMs: 'soon', batchesPerSecond: [...Array.from({ length: 100 }, () => 1), ...hostile], receivedPerSecond: 'x' })
    expect(lines).toEqual([`recent    batches/s  ${'▃'.repeat(54)}▁▁▁▁▁█  now 4 · avg 0.97 · peak 4 (last 60 s)`])
    expect(lines.join('\n')).not.toContain('\x1b')
  })
})
