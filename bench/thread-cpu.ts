/**
 * CPU time per thread of this process, read from Linux's /proc (nanoseconds on the CPU, in
 * /proc/self/task/<tid>/schedstat): what an engine worker, the coordinator and V8's helper threads
 * (garbage collection) each spend, which wall time on a shared machine cannot tell apart.
 */
import { readdirSync, readFileSync } from 'node:fs'

/** CPU ms so far of each thread of this process, by thread id; empty where /proc is absent. */
export function threadCpu(): Map<string, number> {
  const out = new Map<string, number>()
  let tids: string[]
  try {
    tids = readdirSync('/proc/self/task')
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      out.set(tid, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6)
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out
}

/** CPU ms per thread between two readings (threads that started in between count from zero). */
export function cpuSince(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([tid, ms]) => [tid, ms - (before.get(tid) ?? 0)]))
}
