/**
 * Reading dataset manifests: a streaming line reader (so a 2M-row CSV is never held in memory), one CSV
 * record parser with quotes, and AudioSet's class_labels_indices.csv. Every failure is a ManifestError
 * that names the file and line (or JSON path) and the reason.
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'

export class ManifestError extends Error {
  /** `where` is "file:line" or "file: json.path" */
  constructor(
    readonly where: string,
    readonly reason: string
  ) {
    super(`${where}: ${reason}`)
  }
}

export interface ManifestLine {
  /** 1-based */
  line: number
  text: string
}

/** Lines of a text file, streamed, without their line ends (\n or \r\n); a UTF-8 BOM is dropped. */
export async function* readLines(file: string): AsyncGenerator<ManifestLine> {
  const input = createReadStream(file, { encoding: 'utf8' })
  const lines = createInterface({ input, crlfDelay: Infinity })
  let line = 0
  try {
    for await (const text of lines) {
      line++
      yield { line, text: line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text }
    }
  } catch (err) {
    throw new ManifestError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  } finally {
    lines.close()
    input.destroy()
  }
}

/**
 * One CSV record on one line: fields separated by commas, optionally in double quotes ("" inside quotes is
 * a quote). Spaces after a separator are dropped, as AudioSet writes `YTID, 30.000, 40.000, "/m/a,/m/b"`.
 * Manifests never hold line breaks inside a field, so a quote still open at the end of the line is an error.
 */
export function parseCsvLine(text: string, where: string): string[] {
  const fields: string[] = []
  let i = 0
  for (;;) {
    while (text[i] === ' ' || text[i] === '\t') i++
    if (text[i] === '"') {
      let value = ''
      let at = i + 1
      for (;;) {
        const close = text.indexOf('"', at)
        if (close < 0) throw new ManifestError(where, `unterminated quote (opened at column ${i + 1})`)
        value += text.slice(at, close)
        if (text[close + 1] === '"') {
          value += '"'
          at = close + 2
        } else {
          i = close + 1
          break
        }
      }
      while (text[i] === ' ' || text[i] === '\t') i++
      if (i < text.length && text[i] !== ',') throw new ManifestError(where, `unexpected text after a closing quote at column ${i + 1}`)
      fields.push(value)
    } else {
      const comma = text.indexOf(',', i)
      const end = comma < 0 ? text.length : comma
      const value = text.slice(i, end).trimEnd()
      if (value.includes('"')) throw new ManifestError(where, `stray quote inside an unquoted field at column ${i + value.indexOf('"') + 1}`)
      fields.push(value)
      i = end
    }
    if (i >= text.length) return fields
    i++ // the comma
  }
}

/** CSV records of a file with their locations, skipping blank lines and `#` comments. */
export async function* readCsv(file: string): AsyncGenerator<{ where: string; fields: string[] }> {
  for await (const { line, text } of readLines(file)) {
    if (text.trim() === '' || text.startsWith('#')) continue
    const where = `${file}:${line}`
    yield { where, fields: parseCsvLine(text, where) }
  }
}

/** Fails unless a record has exactly the expected columns, naming them. */
export function expectColumns(fields: string[], names: readonly string[], where: string): void {
  if (fields.length !== names.length) {
    throw new ManifestError(where, `expected ${names.length} columns (${names.join(', ')}), found ${fields.length}`)
  }
}

/** A finite, non-negative number in a manifest column. */
export function parseSeconds(value: string, column: string, where: string): number {
  const n = value.trim() === '' ? NaN : Number(value)
  if (!Number.isFinite(n) || n < 0) throw new ManifestError(where, `${column} "${value}" is not a number of seconds`)
  return n
}

/** A dataset's classes: display names by index, with their ontology ids (AudioSet mids) where known. */
export interface ClassList {
  names: string[]
  mids: (string | null)[]
}

/**
 * AudioSet's class_labels_indices.csv (`index,mid,display_name`, header first): indices must count up
 * from 0 and mids must be unique, since datafiles refer to classes by mid.
 */
export async function readClassLabels(file: string): Promise<ClassList> {
  const names: string[] = []
  const mids: string[] = []
  const seen = new Set<string>()
  let header = true
  for await (const { where, fields } of readCsv(file)) {
    expectColumns(fields, ['index', 'mid', 'display_name'], where)
    if (header) {
      header = false
      if (fields[0] === 'index') continue
    }
    const [index, mid, name] = fields
    if (index !== String(names.length)) throw new ManifestError(where, `index "${index}" out of order (expected ${names.length})`)
    if (mid === '') throw new ManifestError(where, 'empty mid')
    if (seen.has(mid)) throw new ManifestError(where, `mid "${mid}" listed twice`)
    seen.add(mid)
    mids.push(mid)
    names.push(name)
  }
  if (names.length === 0) throw new ManifestError(file, 'no classes (expected rows `index,mid,display_name`)')
  return { names, mids }
}

/** Split a label list such as AudioSet's "/m/a,/m/b" into its non-empty items. */
export function splitLabels(value: string): string[] {
  return value
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean)
}
