/**
 * One import at a time per dataset: `<dataset>/import.lock` holds the importing process's pid. A second
 * import waits for the first (saying whose turn it is); a lock whose process is gone (a killed import) is
 * cleared with a log line.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { processAlive } from '../util/pid-lock'

export const IMPORT_LOCK = 'import.lock'

interface Holder {
  pid: number
  since: string
}

function readHolder(file: string): Holder | null {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>
    return typeof h.pid === 'number' && typeof h.since === 'string' ? { pid: h.pid, since: h.since } : null
  } catch {
    return null
  }
}

/** Takes the dataset's import lock, waiting while a live process holds it; returns its release. */
export async function acquireImportLock(datasetDir: string, log: (line: string) => void, signal?: AbortSignal, pollMs = 250): Promise<() => void> {
  const file = join(datasetDir, IMPORT_LOCK)
  const mine: Holder = { pid: process.pid, since: new Date().toISOString() }
  let waitingFor: number | null = null
  for (;;) {
    try {
      writeFileSync(file, JSON.stringify(mine), { flag: 'wx' })
      return () => {
        const h = readHolder(file)
        if (h && h.pid === mine.pid && h.since === mine.since) rmSync(file, { force: true })
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const holder = readHolder(file)
    // a lock file without a readable holder is being written, unless it is older than a second
    const unreadableAndOld = holder === null && Date.now() - (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0) > 1000
    if ((holder && !processAlive(holder.pid)) || unreadableAndOld) {
      rmSync(file, { force: true })
      log(`${file}: import lock of ${holder ? `process ${holder.pid} (since ${holder.since})` : 'an unknown process'}, no longer running, cleared`)
      continue
    }
    if (signal?.aborted) throw new Error(`${file}: cancelled while waiting for the import of process ${holder?.pid ?? '?'}`)
    if (holder && holder.pid !== waitingFor) {
      waitingFor = holder.pid
      log(`${file}: waiting for the import of process ${holder.pid} (since ${holder.since}) to finish`)
    }
    await sleep(pollMs)
  }
}
