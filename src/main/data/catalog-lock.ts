/**
 * Who has a catalog open, so a lock left by a dead process can be told from one a live process holds.
 * node-sqlite3-wasm locks a database by creating the folder `<file>.lock` (for readers and writers alike)
 * and removes it when the statement or transaction ends; a process killed inside one leaves it behind, and
 * every later open then fails "database is locked". Each process that opens a catalog registers its pid
 * in `<file>.holders/`; a lock with no live holder other than this process is stale (this process holds
 * no lock between its catalog calls, which are all synchronous) and is removed, with a log line.
 */
import { mkdirSync, readdirSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs'
import { processAlive } from '../util/pid-lock'

const opened = new Map<string, number>()

const holdersDir = (file: string): string => `${file}.holders`
export const lockDir = (file: string): string => `${file}.lock`

/** Records that this process has `file` open (once per process, however many handles). */
export function registerHolder(file: string): void {
  const n = opened.get(file) ?? 0
  if (n === 0) {
    try {
      mkdirSync(holdersDir(file), { recursive: true })
      writeFileSync(`${holdersDir(file)}/${process.pid}`, `${new Date().toISOString()}\n`)
    } catch {
      // a read-only dataset folder: nobody can clear a lock in it either
    }
  }
  opened.set(file, n + 1)
}

export function unregisterHolder(file: string): void {
  const n = (opened.get(file) ?? 1) - 1
  if (n > 0) return void opened.set(file, n)
  opened.delete(file)
  rmSync(`${holdersDir(file)}/${process.pid}`, { force: true })
}

/** Other processes registered as having `file` open: those alive, and the dead ones (whose entries are removed). */
export function otherHolders(file: string): { alive: number[]; dead: number[] } {
  const alive: number[] = []
  const dead: number[] = []
  let names: string[]
  try {
    names = readdirSync(holdersDir(file))
  } catch {
    return { alive, dead }
  }
  for (const name of names) {
    const pid = Number(name)
    if (pid === process.pid) continue
    if (processAlive(pid)) alive.push(pid)
    else {
      dead.push(pid)
      rmSync(`${holdersDir(file)}/${name}`, { force: true })
    }
  }
  return { alive, dead }
}

/**
 * Removes `<file>.lock` when no other live process has the catalog open; returns the log line, or null
 * when there is no lock or a live process may hold it.
 */
export function clearStaleLock(file: string): string | null {
  const dir = lockDir(file)
  let since: Date
  try {
    since = statSync(dir).mtime
  } catch {
    return null
  }
  const { alive, dead } = otherHolders(file)
  if (alive.length > 0) return null
  try {
    rmdirSync(dir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null // released meanwhile
    if (code !== 'ENOTEMPTY') throw err
    rmSync(dir, { recursive: true, force: true })
  }
  const who = dead.length ? `process ${dead.join(', ')}, no longer running` : 'no running process'
  return `${dir}: stale lock (since ${since.toISOString()}, held by ${who}) cleared`
}
