/**
 * A job's time left, from the rate of the work it has done itself: a resumed job starts at the step of its
 * checkpoint, so the steps before it (done by an earlier job) must not count as work done in this one's time.
 */

/** A progress count and when it was reached (ms since the epoch). */
export interface ProgressMark {
  done: number
  at: number
}

/** Seconds left at the rate since `base`: (total − done) · (now.at − base.at) / (now.done − base.done); null before any work since `base`. */
export function etaSeconds(base: ProgressMark, now: ProgressMark, total: number): number | null {
  const worked = now.done - base.done
  if (worked <= 0 || now.at <= base.at) return null
  return (Math.max(0, total - now.done) * (now.at - base.at)) / 1000 / worked
}
