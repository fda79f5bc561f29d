/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Debian's Chromium, headless, driven by playwright-core (which downloads no
 * browser of its own), for the dashboard tests. Each launch gets a fresh
 * profile directory, removed afterwards, and proves its processes are gone.
 *
 * Without /usr/bin/chromium the suites skip with a message, except in CI
 * (CI=true), where {@link openBrowser} throws so that the test fails.
 */
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core'
import { childPids, expectAllGone, groupMembers } from './processes.js'

export const CHROMIUM = '/usr/bin/chromium'

const MISSING = `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the dashboard browser tests`
const available = existsSync(CHROMIUM)
const required = process.env.CI === 'true'

/**
 * True when Chromium is missing outside CI: `describe.skipIf(noBrowser)`
 * then skips (with a warning saying why). In CI a missing Chromium fails
 * the tests instead, in {@link openBrowser}.
 */
export const noBrowser = !available && !required
if (noBrowser) console.warn(`skipping the dashboard browser tests: ${MISSING}`)

/** The flags of every launch: no network of Chromium's own, no GPU, no sandbox (containers). */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export interface Browser {
  readonly context: BrowserContext
  /** A new page that records what a test asserts on: console messages, page errors, CSP violations, dialogs. */
  page(): Promise<WatchedPage>
  /** Closes Chromium, removes its profile and waits until every one of its processes has exited. */
  close(): Promise<void>
}

export interface WatchedPage {
  readonly page: Page
  readonly console: ConsoleMessage[]
  readonly errors: Error[]
  /** Dialogs opened (alert, confirm…): each is dismissed at once. */
  readonly dialogs: string[]
  /** Responses with a status of 400 or more, and requests that failed. */
  readonly failures: string[]
  /** The `securitypolicyviolation` events the page saw, as "directive blocked-uri". */
  violations(): Promise<string[]>
}

function isChromium(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chromium')
  } catch {
    return false
  }
}

export async function openBrowser(): Promise<Browser> {
  if (!available) throw new Error(MISSING)
  const profile = await mkdtemp(join(tmpdir(), 'cgw-chromium-'))
  const before = new Set(childPids(process.pid))
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 800 } })
  } catch (error) {
    await rm(profile, { recursive: true, force: true })
    throw error
  }
  // playwright starts Chromium as a child of this process, in a process group of its own.
  const leaders = childPids(process.pid).filter((pid) => !before.has(pid) && isChromium(pid))
  const processes = (): number[] => [...new Set([...leaders, ...leaders.flatMap(groupMembers)])]
  let seen = processes()
  return {
    context,
    async page() {
      const page = await context.newPage()
      const watched: WatchedPage = {
        page,
        console: [],
        errors: [],
        dialogs: [],
        failures: [],
        violations: () => page.evaluate(() => (window as unknown as { __violations?: string[] }).__violations ?? []),
      }
      // Init scripts run before the page's own and are not subject to its CSP.
      await page.addInitScript(() => {
        const seenViolations: string[] = []
        ;(window as unknown as { __violations: string[] }).__violations = seenViolations
        document.addEventListener('securitypolicyviolation', (event) => seenViolations.push(`${event.violatedDirective} ${event.blockedURI}`))
      })
      page.on('console', (message) => watched.console.push(message))
      page.on('pageerror', (error) => watched.errors.push(error))
      page.on('dialog', (dialog) => {
        watched.dialogs.push(`${dialog.type()}: ${dialog.message()}`)
        void dialog.dismiss().catch(() => undefined)
      })
      page.on('response', (response) => {
        if (response.status() >= 400) watched.failures.push(`${response.status()} ${response.url()}`)
      })
      page.on('requestfailed', (request) => watched.failures.push(`failed ${request.url()}: ${request.failure()?.errorText ?? ''}`))
      seen = [...new Set([...seen, ...processes()])]
      return watched
    },
    async close() {
      seen = [...new Set([...seen, ...processes()])]
      try {
        await context.close()
      } finally {
        await rm(profile, { recursive: true, force: true })
        await expectAllGone(seen, 10_000)
      }
    },
  }
}

/** Console lines that report a Content-Security-Policy violation. */
export function cspConsoleLines(messages: readonly ConsoleMessage[]): string[] {
  return messages.map((m) => m.text()).filter((text) => /Content Security Policy|Refused to (load|execute|apply|connect|frame)/i.test(text))
}
