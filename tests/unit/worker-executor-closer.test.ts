/**
 * The executor's `close()` as the worker owns it (ExecutorCloser): once,
 * only after the last command ended, a failure logged and never thrown; after
 * a forced abort, waited for at most a second of commands that ignore their
 * signal, then left to happen in the background.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ExecutorCloser, type RunningCommands } from '../../src/worker/executor-closer.js'
import type { Executor } from '../../src/executors/types.js'
import { silentLogger } from '../../src/log.js'

/** Commands that end when the test says so. */
function handCommands() {
  let end!: () => void
  const ended = new Promise<void>((resolve) => (end = resolve))
  const commands: RunningCommands = { idle: () => ended }
  return { commands, end }
}

function executor(close: () => void | Promise<void>): Executor {
  return Object.assign(() => Promise.resolve(0), { close: vi.fn(close) })
}

afterEach(() => {
  vi.useRealTimers()
})

/** A forced close under way with one command still running, on fake timers, 999 ms in. */
async function abortCloseAt999ms() {
  vi.useFakeTimers()
  const { commands, end } = handCommands()
  const exec = executor(() => undefined)
  const closer = new ExecutorCloser(exec, commands, silentLogger())
  let done = false
  const closing = closer.closeAfterAbort().then(() => (done = true))
  await vi.advanceTimersByTimeAsync(999)
  return { exec, closer, end, closing, done: () => done }
}

describe('closing the executor', () => {
  it('calls close() once, and only after the last command ended', async () => {
    const { commands, end } = handCommands()
    const exec = executor(() => undefined)
    const closer = new ExecutorCloser(exec, commands, silentLogger())
    const first = closer.close()
    expect(closer.close()).toBe(first)
    await Promise.resolve()
    expect(exec.close).not.toHaveBeenCalled()
    end()
    await first
    await closer.close()
    expect(exec.close).toHaveBeenCalledTimes(1)
  })

  it('logs a close that fails and resolves all the same', async () => {
    const { commands, end } = handCommands()
    const logger = silentLogger()
    const warn = vi.spyOn(logger, 'warn')
    const closer = new ExecutorCloser(executor(() => Promise.reject(new Error('socket stuck'))), commands, logger)
    end()
    await expect(closer.close()).resolves.toBeUndefined()
    expect(warn).toHaveBeenCalledWith({ err: 'socket stuck' }, 'executor close failed')
  })

  it('after an abort, waits for commands that end in time and closes', async () => {
    const { exec, end, closing, done } = await abortCloseAt999ms()
    expect(done()).toBe(false)
    end()
    await closing
    expect(exec.close).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0) // the give-up timer was cleared
  })

  it('after an abort, gives up waiting after 1000 ms and closes once the commands end, in the background', async () => {
    const { exec, closer, end, closing, done } = await abortCloseAt999ms()
    expect(done()).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await closing
    expect(exec.close).not.toHaveBeenCalled()
    end()
    await closer.close()
    expect(exec.close).toHaveBeenCalledTimes(1)
  })
})
