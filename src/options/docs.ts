/**
 * The README's option tables, generated from the schemas. Each table sits
 * between `<!-- options:<command> -->` and `<!-- /options:<command> -->`;
 * `npm run docs:options` rewrites them and a test fails when they drift.
 */
import { defaultOf, flagTerm, rangeOf } from './describe.js'
import { flaggedEntries } from './flags.js'
import { cliSchemas, type CommandName } from './roles.js'
import { envName, type OptionSpec, type Schema } from './types.js'

/** Flags, endpoints, option values and `<placeholders>` (else HTML tags to GitHub) in code spans; `|` escaped for the table. */
function markdown(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/(--[a-z][a-z-]*|(?:tcp|ipc):\/\/[^\s,;)]*|<[a-z]+>)/g, '`$1`')
}

function meaning(spec: OptionSpec<unknown>): string {
  const range = rangeOf(spec)
  return markdown(range === undefined ? spec.help : `${spec.help}; ${range}`)
}

function defaultCell(spec: OptionSpec<unknown>): string {
  const text = defaultOf(spec)
  if (text === undefined) return spec.required === true ? 'required' : '–'
  const literal = spec.defaultText === undefined && (typeof spec.default === 'string' || Array.isArray(spec.default))
  return literal ? `\`${text}\`` : markdown(text)
}

/** The option table of one command, rows grouped under their help headings. */
export function optionsTable(schema: Schema): string {
  const groups = new Map<string, string[]>()
  for (const [, spec] of flaggedEntries(schema)) {
    const group = spec.group?.replace(/:$/, '') ?? 'General'
    const term = spec.negation === undefined ? `\`${flagTerm(spec)}\`` : `\`${flagTerm(spec)}\` / \`--no-${spec.flag}\``
    const rows = groups.get(group) ?? []
    rows.push(`| ${term} | \`${envName(spec.flag)}\` | ${defaultCell(spec)} | ${meaning(spec)} |`)
    groups.set(group, rows)
  }
  const general = groups.get('General') ?? []
  groups.delete('General')
  groups.set('General', [...general, '| `-V, --version` / `-h, --help` | | | |'])
  const lines = ['| option | environment | default | meaning |', '|---|---|---|---|']
  for (const [group, rows] of groups) lines.push(`| **${group}** | | | |`, ...rows)
  return lines.join('\n')
}

/** `readme` with every marked option table replaced by the generated one. Throws naming a missing marker. */
export function renderReadme(readme: string): string {
  let text = readme
  for (const command of Object.keys(cliSchemas) as CommandName[]) {
    const open = `<!-- options:${command} -->`
    const close = `<!-- /options:${command} -->`
    const start = text.indexOf(open)
    const end = text.indexOf(close)
    if (start === -1 || end < start) throw new Error(`README has no ${open} … ${close} section`)
    text = `${text.slice(0, start + open.length)}\n${optionsTable(cliSchemas[command])}\n${text.slice(end)}`
  }
  return text
}
