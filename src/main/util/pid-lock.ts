/**
 * A lock file naming the process that holds it (`{ pid, since, what }`), created exclusively. A lock whose
 * process is gone (killed, crashed) is stale: it is cleared, said so, and taken.
 */
import { open, readFile, unlink } from 'node:fs/promises'
import { storageError } from './storage-error'

/** Whether a process with this pid is running (EPERM: running, as another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0) // signal 0 only checks that the process exists
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export interface PidLock {
  path: string
  release(): Promise<void>
}

interface Holder {
  pid: number
  since: string
  what: string
}

async function readHolder(path: string): Promise<Holder | null> {
  try {
    const h = JSON.parse(await readFile(path, 'utf8')) as Partial<Holder>
    return Number.isSafeInteger(h.pid) ? (h as Holder) : null
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err
    return null // half-written by a killed process: as stale as a dead pid
  }
}

/**
 * Takes the lock at `path` for `what` (e.g. "training run r1"), or throws naming the live holder.
 * `log` hears about a stale lock that was cleared.
 */
export async function acquirePidLock(path: string, what: string, log: (line: string) => void): Promise<PidLock> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await open(path, 'wx')
      try {
        await handle.writeFile(JSON.stringify({ pid: process.pid, since: new Date().toISOString(), what }))
      } finally {
        await handle.close()
      }
      return { path, release: () => unlink(path).catch(() => undefined) }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw storageError(err, path)
    }
    let holder: Holder | null
    try {
      holder = await readHolder(path)
    } catch {
      continue // released between our open and our read
    }
    if (holder && processAlive(holder.pid)) {
      throw new Error(`${what} is in use by process ${holder.pid} since ${holder.since} (lock ${path}); wait for it to end or stop it first`)
    }
    log(`cleared a stale lock ${path} (${holder ? `process ${holder.pid} is gone` : 'unreadable'})`)
    await unlink(path).catch(() => undefined)
  }
  throw new Error(`${path}: could not take the lock for ${what} (it keeps changing hands)`)
}
