/**
 * Crash-safe file writes. A whole file is written to a temporary sibling, flushed to disk and renamed
 * over the target, so readers see the old file or the new one, never half of it. Logs are appended
 * one line per write call, so a killed process leaves at most one incomplete trailing line.
 */
import { randomBytes } from 'node:crypto'
import { open, readFile, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { byteLength, storageError } from './storage-error'

/**
 * Write `data` and flush it to disk (no rename; for files inside a directory that is itself renamed into
 * place). A full disk or a forbidden folder is reported naming `reportAs` (default `path`) and the size.
 */
export async function writeFileDurable(path: string, data: Uint8Array | string, reportAs = path): Promise<void> {
  try {
    const handle = await open(path, 'w')
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch (err) {
    throw storageError(err, reportAs, byteLength(data))
  }
}

/** fsync through a handle opened with `flags`. */
async function syncOpened(path: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await open(path, flags)
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Flush a directory's entries (a rename or a new file in it) to disk. */
export const syncDir = (path: string): Promise<void> => syncOpened(path, 'r')

/** A temporary sibling of `path`: in the same directory, as rename is atomic only within one file system. */
function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
}

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await produceFileAtomic(path, (temp) => writeFileDurable(temp, data, path))
}

/**
 * A file written and flushed (writeFileDurable, syncFile) by `produce`, our code or another program such as
 * ffmpeg, into the temporary sibling it is given, then renamed over `path`; if `produce` fails the temporary
 * file is removed and `path` is untouched.
 */
export async function produceFileAtomic(path: string, produce: (temp: string) => Promise<void>): Promise<void> {
  const temp = tempSibling(path)
  try {
    await produce(temp)
    await rename(temp, path)
  } catch (err) {
    await unlink(temp).catch(() => undefined) // the temp may never have been created
    throw err
  }
  await syncDir(dirname(path))
}

/** Flush a file another program wrote to disk (opened for writing: some systems flush only such handles). */
export const syncFile = (path: string): Promise<void> => syncOpened(path, 'r+')

/**
 * Like writeFileAtomic for content too large to hold as one string (a 2M-row CSV): lines are written to
 * the temporary sibling as they come, each followed by a newline, then flushed and renamed into place.
 */
export async function writeLinesAtomic(path: string, lines: Iterable<string> | AsyncIterable<string>): Promise<void> {
  try {
    await produceFileAtomic(path, async (temp) => {
      const handle = await open(temp, 'w')
      try {
        let chunk: string[] = []
        let size = 0
        for await (const line of lines) {
          chunk.push(line, '\n')
          size += line.length + 1
          if (size >= 1 << 20) {
            await handle.write(chunk.join(''))
            chunk = []
            size = 0
          }
        }
        await handle.write(chunk.join(''))
        await handle.sync()
      } finally {
        await handle.close()
      }
    })
  } catch (err) {
    throw storageError(err, path)
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`)
}

/**
 * Append one line to a log in a single write call. If the file ends without a newline (a previous
 * writer was killed mid-line), a newline is written first in the same call, so the broken fragment
 * stays on its own line and `readJsonl` skips it. Assumes one writer per file.
 */
export async function appendLine(path: string, line: string): Promise<void> {
  if (line.includes('\n')) throw new Error(`appendLine(${path}): the line contains a newline`)
  try {
    await appendWhole(path, line)
  } catch (err) {
    throw storageError(err, path, Buffer.byteLength(line) + 1)
  }
}

async function appendWhole(path: string, line: string): Promise<void> {
  const handle = await open(path, 'a+')
  try {
    const { size } = await handle.stat()
    const last = new Uint8Array(1)
    if (size > 0) await handle.read(last, 0, 1, size - 1)
    const text = `${size > 0 && last[0] !== 0x0a ? '\n' : ''}${line}\n`
    const bytes = Buffer.from(text, 'utf8')
    let written = 0
    // a regular file takes the whole buffer at once; the loop only guards against a short write
    while (written < bytes.byteLength) written += (await handle.write(bytes, written)).bytesWritten
  } finally {
    await handle.close()
  }
}

export interface SkippedLine {
  /** 1-based line number */
  line: number
  text: string
  reason: string
}

export interface JsonlContents<T> {
  rows: T[]
  /** lines that did not parse, normally just a final line cut short by a killed writer */
  skipped: SkippedLine[]
}

/**
 * Read a JSONL log. Lines that fail to parse are skipped and reported rather than thrown, because a
 * killed writer legitimately leaves one; rows should be objects or arrays, whose truncations never parse.
 * `T` is the caller's claim about the rows' shape; nothing checks it.
 */
export async function readJsonl<T = unknown>(path: string): Promise<JsonlContents<T>> {
  const lines = (await readFile(path, 'utf8')).split('\n')
  const rows: T[] = []
  const skipped: SkippedLine[] = []
  lines.forEach((text, i) => {
    if (!text.trim()) return
    try {
      rows.push(JSON.parse(text) as T)
    } catch (err) {
      skipped.push({ line: i + 1, text, reason: (err as Error).message })
    }
  })
  return { rows, skipped }
}
