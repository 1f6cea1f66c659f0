/**
 * Where a step's time goes in each thread of an engine pool: wall ms summed per named phase, reported with
 * the step (`npm run bench` writes them as `step_profile`). The waits at the barriers are phases of their own,
 * so on an idle machine the rest is the thread's computing.
 */

/** ms per phase */
export type PhaseTimes = Record<string, number>

/** Splits a thread's time into consecutive phases: each `lap(name)` closes the phase begun by the previous one. */
export class PhaseClock {
  readonly times: PhaseTimes = {}
  private last = performance.now()

  lap(name: string): void {
    const now = performance.now()
    this.times[name] = (this.times[name] ?? 0) + now - this.last
    this.last = now
  }
}
