/**
 * Every code block of the README's "## Library API" section runs, exactly as
 * printed, the way a user would run it: saved as a `.mjs` file in a project
 * that depends on zmq-command-gateway and started with `node`.
 *
 * - A ```js block whose first line is `// file: NAME` is a module: it is
 *   written to NAME for the programs to import.
 * - Every other ```js block is a program. The ```text block right after it is
 *   what it must print on stdout, line for line (only the digits of the
 *   `elapsed` summary line may differ); it must exit 0 and write nothing on
 *   stderr.
 * - Any other block in the section fails the test: a fragment, a ```ts or an
 *   output with no program before it.
 *
 * The programs run in a fresh directory inside the package (`.readme-run-*`,
 * git-ignored), because `import 'zmq-command-gateway'` resolves there through
 * Node's self-reference to dist/ (npm test builds first). That directory holds
 * what the README says the examples read:
 * - devices.txt, a copy of tests/data/server_data.txt: the device map, `foo`
 *   and `bar` on 256 addresses from 137.72.95.0, each answering 1 after 1 s;
 * - commands.txt, a copy of tests/data/client_data.txt: those 512 commands.
 *
 * Each program runs in its own process group, with a deadline. Every process
 * seen in it (the program, the workers its gateway forks) must be gone when
 * it exits, and nothing may be left in the group.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, normalize } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, childPids, expectAllGone, groupMembers } from '../helpers/processes.js'

/** A program gets this long; the fixtures' devices answer after 1 s, so a healthy one needs ~2 s. */
const DEADLINE_MS = 40_000

interface Block {
  readonly lang: string
  readonly text: string
  /** 1-based README line of the opening fence. */
  readonly line: number
}

interface Program {
  readonly code: string
  readonly line: number
  readonly expected: string
}

interface Example {
  readonly modules: { name: string; code: string; line: number }[]
  readonly programs: Program[]
  readonly problems: string[]
}

/** The fenced blocks between `## Library API` and the next `## ` heading. */
function librarySection(readme: string): Block[] {
  const lines = readme.split('\n')
  const start = lines.indexOf('## Library API')
  if (start < 0) throw new Error('README has no "## Library API" heading')
  const blocks: Block[] = []
  let open: { lang: string; line: number; body: string[] } | undefined
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i]!
    if (open === undefined && line.startsWith('## ')) break
    if (!line.startsWith('```')) {
      open?.body.push(line)
      continue
    }
    if (open === undefined) open = { lang: line.slice(3).trim(), line: i + 1, body: [] }
    else {
      blocks.push({ lang: open.lang, text: `${open.body.join('\n')}\n`, line: open.line })
      open = undefined
    }
  }
  if (open !== undefined) throw new Error(`README line ${open.line}: code block never closed`)
  return blocks
}

const FILE_MARK = /^\/\/ file: (\S+)\n/

function examples(blocks: readonly Block[]): Example {
  const modules: Example['modules'] = []
  const programs: Program[] = []
  const problems: string[] = []
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i]!
    if (block.lang !== 'js') {
      problems.push(`line ${block.line}: a \`\`\`${block.lang} block that follows no program (only js programs, js modules and their text output belong here)`)
      continue
    }
    const file = FILE_MARK.exec(block.text)
    if (file !== null) {
      const name = normalize(file[1]!)
      if (isAbsolute(name) || name.startsWith('..')) problems.push(`line ${block.line}: module name ${file[1]} leaves the directory`)
      else modules.push({ name, code: block.text, line: block.line })
      continue
    }
    const output = blocks[i + 1]
    if (output?.lang !== 'text') {
      problems.push(`line ${block.line}: a program without its output (a \`\`\`text block right after it)`)
      continue
    }
    programs.push({ code: block.text, line: block.line, expected: output.text })
    i++
  }
  return { modules, programs, problems }
}

const ELAPSED = /^elapsed   \d+\.\d{3} s  \(\d+ commands\/s\)$/

/** Output lines, with the only varying line (the summary's `elapsed`) made comparable. */
function comparable(text: string): string[] {
  return text
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => (ELAPSED.test(line) ? 'elapsed   <seconds> s  (<rate> commands/s)' : line))
}

interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** Every pid seen in the program's tree while it ran, itself included. */
  readonly pids: number[]
  readonly timedOut: boolean
}

/** Runs `node <file>` in `cwd` as its own process group, watching its descendants. */
async function runNode(file: string, cwd: string): Promise<Run> {
  const child = spawn(process.execPath, [file], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const pid = child.pid!
  const seen = new Set<number>([pid])
  const look = (): void => {
    for (const parent of [...seen]) for (const descendant of childPids(parent)) seen.add(descendant)
  }
  const watcher = setInterval(look, 20)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  let timedOut = false
  const deadline = setTimeout(() => {
    timedOut = true
    process.kill(-pid, 'SIGKILL')
  }, DEADLINE_MS)
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal })),
  )
  clearTimeout(deadline)
  clearInterval(watcher)
  return { code, signal, stdout, stderr, pids: [...seen], timedOut }
}

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
const found = examples(librarySection(readme))
const dir = join(ROOT, `.readme-run-${randomBytes(4).toString('hex')}`)

beforeAll(async () => {
  await mkdir(dir)
  await copyFile(join(ROOT, 'tests/data/server_data.txt'), join(dir, 'devices.txt'))
  await copyFile(join(ROOT, 'tests/data/client_data.txt'), join(dir, 'commands.txt'))
  for (const module of found.modules) {
    await mkdir(dirname(join(dir, module.name)), { recursive: true })
    await writeFile(join(dir, module.name), module.code)
  }
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
  expect(existsSync(dir)).toBe(false)
})

describe('the README library examples', () => {
  it('are complete programs, modules for them, and the output of each program', () => {
    expect(found.problems).toEqual([])
    // The section shows at least: a gateway with a client, a generator source, a Worker, an executor module in use.
    expect(found.programs.length).toBeGreaterThanOrEqual(4)
    expect(found.modules.length).toBeGreaterThanOrEqual(1)
    for (const program of found.programs) expect(program.code).toMatch(/from 'zmq-command-gateway'/)
  })

  it.each(found.programs.map((program, index) => ({ ...program, index: index + 1 })))(
    'program $index (README line $line) exits 0, prints what the README shows, and leaves no process behind',
    async ({ code, expected, index }) => {
      const file = join(dir, `example-${index}.mjs`)
      await writeFile(file, code)
      const run = await runNode(file, dir)
      const report = `exit ${run.code ?? run.signal}${run.timedOut ? ` (killed after ${DEADLINE_MS} ms)` : ''}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`
      try {
        expect(run.timedOut, report).toBe(false)
        expect(run.code, report).toBe(0)
        expect(comparable(run.stdout), report).toEqual(comparable(expected))
        expect(run.stderr, report).toBe('')
      } finally {
        try {
          await expectAllGone(run.pids)
        } finally {
          // Also what the watcher never saw (it looks every 20 ms): anything left in the group.
          const left = groupMembers(run.pids[0]!)
          for (const pid of left) process.kill(pid, 'SIGKILL')
          expect(left, 'processes left in the process group of the example').toEqual([])
        }
      }
    },
    DEADLINE_MS + 10_000,
  )
})
