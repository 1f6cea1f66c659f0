/**
 * Which recording a clip was cut from, read from its file name (`dataset import --group-by REGEX`: the
 * first capture group), and the import report's warning when names look like windows of recordings but no
 * grouping is set. Pure: no IO.
 */
import { basename } from 'node:path'

/** The --group-by pattern as a RegExp; refused, saying why, when it is not one or captures nothing. */
export function parseGroupBy(pattern: string): RegExp {
  let re: RegExp
  try {
    re = new RegExp(pattern)
  } catch (err) {
    throw new Error(`--group-by ${JSON.stringify(pattern)}: not a regular expression (${(err as Error).message})`, { cause: err })
  }
  // an alternative that matches the empty string shows how many groups the pattern has
  if (new RegExp(`${pattern}|`).exec('')!.length < 2) throw new Error(`--group-by ${JSON.stringify(pattern)}: needs a capture group, e.g. '^(.+)_\\d+\\.mp4$', naming the recording`)
  return re
}

/** The group of a file: the first capture group of its base name, or null when the pattern does not match it. */
export function groupOf(file: string, groupBy: RegExp): string | null {
  const m = groupBy.exec(basename(file))
  return m?.[1] ? m[1] : null
}

/**
 * A name made of a recording's name and a window number or a time range written with "-" ("rec07_12.mp4",
 * "street-30-40.mkv", "take2 0.5s.mp4"); the first capture group is the recording. Also the pattern the
 * warning suggests.
 */
export const WINDOW_NAME = /^(.+?)[-_. ]*\d+(?:\.\d+)?s?(?:-\d+(?:\.\d+)?s?)?\.[^.]+$/

/**
 * A warning when at least half of the names (and at least 4) read as windows of fewer recordings than
 * files, e.g. "rec07_12.mp4" and "rec07_13.mp4"; null otherwise.
 */
export function windowNamesWarning(files: string[]): string | null {
  const byPrefix = new Map<string, string[]>()
  for (const f of files) {
    const g = groupOf(f, WINDOW_NAME)
    if (g !== null && /\D/.test(g)) byPrefix.set(g, [...(byPrefix.get(g) ?? []), basename(f)])
  }
  const shared = [...byPrefix.values()].filter((names) => names.length > 1)
  const windows = shared.reduce((n, names) => n + names.length, 0)
  if (windows < 4 || windows * 2 < files.length) return null
  const example = shared[0].slice(0, 2).map((n) => `"${n}"`).join(', ')
  return (
    `${windows} of ${files.length} file names look like windows of ${shared.length} recordings (e.g. ${example}), and no grouping is set: ` +
    `they are split file by file, so windows of one recording can sit in both train and test and inflate retrieval. ` +
    `Re-import into a new dataset with --group-by '${WINDOW_NAME.source}' (its first capture group names the recording) to keep each recording in one split.`
  )
}
