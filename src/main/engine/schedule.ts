/**
 * Learning rate per step, as the official scheduler/warmupcos.py: linear warm-up from warmupStartLr to
 * baseLr over warmupSteps, then half a cosine from baseLr down to minLr over the remaining steps.
 * Step k (0-based) is the value the official scheduler returns on its (k+1)-th call.
 */
export interface WarmupCosine {
  baseLr: number
  warmupSteps: number
  totalSteps: number
  warmupStartLr?: number
  minLr?: number
}

export function warmupCosineLr(step: number, s: WarmupCosine): number {
  const start = s.warmupStartLr ?? 2e-7
  const min = s.minLr ?? 1e-6
  if (step < s.warmupSteps) return start + (step / Math.max(1, s.warmupSteps)) * (s.baseLr - start)
  const progress = (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps)
  return Math.max(min, min + (s.baseLr - min) * 0.5 * (1 + Math.cos(Math.PI * progress)))
}
