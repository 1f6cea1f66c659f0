/** How long a piece of work blocks the event loop: what the workbench's server feels while it runs. */
import { monitorEventLoopDelay } from 'node:perf_hooks'

/** The longest event-loop stall (ms) while `fn` runs, and its wall time. */
export async function stall(fn: () => Promise<unknown>): Promise<{ wallMs: number; maxStallMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  await new Promise((r) => setTimeout(r, 5)) // the histogram's first tick only sets its baseline
  const t0 = performance.now()
  await fn()
  const wallMs = performance.now() - t0
  await new Promise((r) => setTimeout(r, 20)) // let the timer see a stall that lasted until fn returned
  h.disable()
  return { wallMs: Math.round(wallMs), maxStallMs: Math.round(h.max / 1e6) }
}
