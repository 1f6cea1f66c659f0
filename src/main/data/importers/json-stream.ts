/**
 * The entries of one array in a JSON file, `{"key": [entry, …], …}`, read as a stream: memory stays at a
 * chunk plus one entry whatever the file's size (a 2M-clip CAV-MAE datafile is over 512 MB, more than one
 * JavaScript string can hold). Each entry is cut out by a scanner that tracks strings and nesting, then
 * given to JSON.parse; everything else in the file is checked for syntax and skipped without being kept.
 * Every failure is a ManifestError naming the file with line:column (syntax) or the JSON path (shape).
 */
import { createReadStream } from 'node:fs'
import { ManifestError } from './manifest-reader'

/** A CAV-MAE entry is a few hundred bytes; anything this large is not one. */
export const MAX_ENTRY_CHARS = 1 << 20

const WHITESPACE = new Set([' ', '\t', '\n', '\r'])

class TextCursor {
  buf = ''
  pos = 0
  private done = false
  /** characters, newlines and the last newline's offset of the text already dropped from `buf` */
  private dropped = 0
  private droppedLines = 0
  private lastNewline = -1

  constructor(
    readonly file: string,
    private readonly chunks: AsyncIterator<string>
  ) {}

  /** Appends the next chunk, dropping what lies before `keepFrom`; false at the end of the file. */
  async fill(keepFrom = this.pos): Promise<boolean> {
    if (this.done) return false
    const next = await this.chunks.next()
    if (next.done) {
      this.done = true
      return false
    }
    const gone = this.buf.slice(0, keepFrom)
    for (let i = gone.indexOf('\n'); i >= 0; i = gone.indexOf('\n', i + 1)) {
      this.droppedLines++
      this.lastNewline = this.dropped + i
    }
    this.dropped += keepFrom
    this.buf = this.buf.slice(keepFrom) + next.value
    this.pos -= keepFrom
    return true
  }

  /** The character at the cursor after any whitespace, or undefined at the end of the file. */
  async peek(): Promise<string | undefined> {
    for (;;) {
      while (this.pos < this.buf.length && WHITESPACE.has(this.buf[this.pos])) this.pos++
      if (this.pos < this.buf.length) return this.buf[this.pos]
      if (!(await this.fill())) return undefined
    }
  }

  /** Absolute character offset of a position in `buf`. */
  offset(at = this.pos): number {
    return this.dropped + at
  }

  /** "file:line:column" of an absolute offset that is still in `buf`. */
  where(offset: number): string {
    const prefix = this.buf.slice(0, offset - this.dropped)
    let lines = this.droppedLines
    for (let i = prefix.indexOf('\n'); i >= 0; i = prefix.indexOf('\n', i + 1)) lines++
    const last = prefix.lastIndexOf('\n')
    const lineStart = last >= 0 ? this.dropped + last : this.lastNewline
    return `${this.file}:${lines + 1}:${offset - lineStart}`
  }

  syntaxError(reason: string, offset = this.offset()): ManifestError {
    return new ManifestError(this.where(offset), `not valid JSON (${reason})`)
  }

  /**
   * Moves past one complete JSON value and returns its text (`keep`), or only checks its nesting and
   * strings (not kept, any size). A scalar runs to the next delimiter; JSON.parse checks the rest.
   */
  async value(keep: boolean, limit = MAX_ENTRY_CHARS): Promise<string> {
    if ((await this.peek()) === undefined) throw this.syntaxError('unexpected end of the file')
    let start = this.pos
    let depth = 0
    let inString = false
    let escaped = false
    const scalar = !'{["'.includes(this.buf[this.pos])
    for (;;) {
      for (; this.pos < this.buf.length; this.pos++) {
        const c = this.buf[this.pos]
        if (inString) {
          if (escaped) escaped = false
          else if (c === '\\') escaped = true
          else if (c === '"') {
            inString = false
            if (depth === 0) {
              this.pos++
              return this.buf.slice(start, this.pos)
            }
          }
        } else if (scalar) {
          if (c === ',' || c === '}' || c === ']' || WHITESPACE.has(c)) return this.buf.slice(start, this.pos)
        } else if (c === '"') inString = true
        else if (c === '{' || c === '[') depth++
        else if (c === '}' || c === ']') {
          if (--depth === 0) {
            this.pos++
            return this.buf.slice(start, this.pos)
          }
        }
      }
      if (keep && this.pos - start > limit) {
        throw new ManifestError(this.where(this.offset(start)), `an entry longer than ${limit} characters: not a datafile entry`)
      }
      // a kept value stays whole in the buffer; a skipped one lets it go
      const keepFrom = keep ? start : this.pos
      if (!(await this.fill(keepFrom))) {
        if (scalar) return this.buf.slice(start)
        throw this.syntaxError('unexpected end of the file inside a value')
      }
      start = keep ? 0 : this.pos
    }
  }
}

function chunksOf(file: string, chunkBytes: number): AsyncIterator<string> {
  return createReadStream(file, { encoding: 'utf8', highWaterMark: chunkBytes })[Symbol.asyncIterator]() as AsyncIterator<string>
}

/** JSON.parse of one value cut from the file, its error placed in the file. */
function parseAt(c: TextCursor, text: string, offset: number): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    const message = (err as Error).message
    const m = /at position (\d+)/.exec(message)
    const at = m ? offset + Number(m[1]) : offset
    throw new ManifestError(c.where(at), `not valid JSON (${m ? message.replace(m[0], `at position ${at}`) : message})`)
  }
}

/**
 * Entries of the array under `key` in the top-level object of `file`, in order. A UTF-8 byte-order mark is
 * refused by name (Python's json.load, which the official loaders use, refuses it too). `chunkBytes`: the
 * read size (tests make it tiny to put chunk boundaries everywhere).
 */
export async function* streamJsonArray(file: string, key: string, chunkBytes = 1 << 16): AsyncGenerator<unknown> {
  const chunks = chunksOf(file, chunkBytes)
  const c = new TextCursor(file, chunks)
  try {
    try {
      await c.fill()
    } catch (err) {
      throw new ManifestError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
    if (c.buf.charCodeAt(0) === 0xfeff) {
      throw new ManifestError(`${file}:1:1`, 'starts with a UTF-8 byte-order mark (BOM), which the official loaders (Python json.load) refuse too; save it as UTF-8 without a BOM')
    }
    if ((await c.peek()) !== '{') throw new ManifestError(`${file}: $`, `expected an object {"${key}": [...]}`)
    c.pos++
    let found = false
    if ((await c.peek()) === '}') c.pos++
    else {
      for (;;) {
        const quote = await c.peek()
        const at = c.offset()
        if (quote !== '"') throw c.syntaxError('expected a double-quoted property name', at)
        const name = parseAt(c, await c.value(true), at) as string
        if ((await c.peek()) !== ':') throw c.syntaxError("expected ':' after a property name")
        c.pos++
        if (name === key && !found) {
          found = true
          yield* arrayEntries(c, key)
        } else await c.value(false)
        const next = await c.peek()
        c.pos++
        if (next === '}') break
        if (next !== ',') throw c.syntaxError(next === undefined ? 'unexpected end of the file' : "expected ',' or '}' after a property", c.offset() - 1)
      }
    }
    if ((await c.peek()) !== undefined) throw c.syntaxError('unexpected text after the top-level object')
    if (!found) throw new ManifestError(`${file}: $.${key}`, 'expected an array of clips')
  } finally {
    await chunks.return?.()
  }
}

async function* arrayEntries(c: TextCursor, key: string): AsyncGenerator<unknown> {
  if ((await c.peek()) !== '[') throw new ManifestError(`${c.file}: $.${key}`, 'expected an array of clips')
  c.pos++
  if ((await c.peek()) === ']') {
    c.pos++
    return
  }
  for (;;) {
    await c.peek()
    const at = c.offset()
    yield parseAt(c, await c.value(true), at)
    const next = await c.peek()
    c.pos++
    if (next === ']') return
    if (next !== ',') throw c.syntaxError(next === undefined ? 'unexpected end of the file' : "expected ',' or ']' after an entry", c.offset() - 1)
  }
}
