/**
 * What this process holds open, for "nothing is left behind" assertions:
 * handles and timers counted by type from process.getActiveResourcesInfo(),
 * compared with a snapshot taken before the work started.
 */

/** The resource types a check could leave behind. */
const WATCHED = ['TCPSocketWrap', 'TCPWrap', 'PipeWrap', 'Timeout', 'ConnectWrap', 'GetAddrInfoReqWrap'] as const

export type ResourceCounts = Record<(typeof WATCHED)[number], number>

export function resourceCounts(): ResourceCounts {
  const counts = Object.fromEntries(WATCHED.map((type) => [type, 0])) as ResourceCounts
  for (const type of process.getActiveResourcesInfo()) {
    if (type in counts) counts[type as keyof ResourceCounts] += 1
  }
  return counts
}

/** The types of which there are more now than in `before`, with how many more. */
export function extraResources(before: ResourceCounts): Partial<ResourceCounts> {
  const now = resourceCounts()
  const extra: Partial<ResourceCounts> = {}
  for (const type of WATCHED) if (now[type] > before[type]) extra[type] = now[type] - before[type]
  return extra
}
