/**
 * The few terminal rules a status line depends on, as a model to test it
 * against: `\r` goes to column 0, `ESC [2K` erases the line, `\n` starts a new
 * line, any other `ESC [ … letter` (colours) takes no room, and text
 * overwrites what is under the cursor. `lines()` is what a person sees.
 */
export class TerminalModel {
  private readonly rows: string[][] = [[]]
  private column = 0

  write(chunk: string): void {
    for (let i = 0; i < chunk.length; i++) {
      const char = chunk[i]!
      if (char === '\x1b' && chunk[i + 1] === '[') {
        const end = /[A-Za-z]/.exec(chunk.slice(i + 2))
        if (end === null) throw new Error(`unterminated escape at ${i}`)
        const sequence = chunk.slice(i + 2, i + 3 + end.index)
        if (sequence === '2K') this.rows[this.rows.length - 1] = []
        i += 2 + end.index
      } else if (char === '\r') this.column = 0
      else if (char === '\n') {
        this.rows.push([])
        this.column = 0
      } else {
        this.rows[this.rows.length - 1]![this.column++] = char
      }
    }
  }

  /** Every row, without trailing blanks; the last one is where the cursor is. */
  lines(): string[] {
    return this.rows.map((row) => Array.from(row, (c) => c ?? ' ').join('').trimEnd())
  }
}
