/**
 * The generated README tables render on GitHub as they read in the help: an
 * angle-bracket placeholder outside a code span is taken for an HTML tag and
 * vanishes (`<done>/<read> commands done` would show as `/ commands done`).
 */
import { describe, expect, it } from 'vitest'
import { optionsTable } from '../../src/options/docs.js'
import { cliSchemas } from '../../src/options/roles.js'

describe('the option tables as Markdown', () => {
  it.each(Object.keys(cliSchemas) as (keyof typeof cliSchemas)[])('%s: no <placeholder> outside a code span', (command) => {
    const outsideCode = optionsTable(cliSchemas[command]).replace(/`[^`]*`/g, '')
    expect(outsideCode).not.toMatch(/<[a-z]/i)
  })

  it('keeps the placeholders, as code', () => {
    expect(optionsTable(cliSchemas['run-client'])).toContain('progress on stderr: `<done>`/`<total>` commands (`<p>` %) · `<rate>` commands/s · ETA mm:ss · `<n>` batches in flight')
  })
})
