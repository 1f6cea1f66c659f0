/**
 * Retrieval R@K is comparable only between runs evaluated on the same clips: the same dataset, split and
 * number of clips. The runs table ranks runs within one such evaluation set and shows each other run's
 * own set instead of a number that looks comparable.
 */
import type { RetrievalSummary } from '../../../shared/contract'

export type Evaluation = Omit<RetrievalSummary, 'per_class'>

export interface EvaluationSet {
  key: string
  dataset: string
  split: string
  n: number
  /** how many runs have been evaluated on it */
  runs: number
}

type SetOf = { dataset: string; split: string; n: number }

export const evaluationKey = (e: SetOf): string => `${e.dataset}/${e.split}/${e.n}`

export const describeSet = (e: SetOf): string => `${e.dataset}/${e.split}, n=${e.n}`

/** R@K of a ranking that is random: the true pair is among the first K of n with probability K/n (in %). */
export const chanceRecall = (k: number, n: number): number => (100 * Math.min(k, n)) / n

/** The median rank of a random ranking of n candidates: (n + 1) / 2. */
export const chanceMedianRank = (n: number): number => (n + 1) / 2

/** The evaluation sets of the given runs' reports, the one most runs share first (then by name). */
export function evaluationSets(runs: readonly { evaluations: readonly Evaluation[] }[]): EvaluationSet[] {
  const sets = new Map<string, EvaluationSet>()
  for (const r of runs) {
    for (const key of new Set(r.evaluations.map(evaluationKey))) {
      const e = r.evaluations.find((x) => evaluationKey(x) === key)!
      const s = sets.get(key) ?? { key, dataset: e.dataset, split: e.split, n: e.n, runs: 0 }
      s.runs++
      sets.set(key, s)
    }
  }
  return [...sets.values()].sort((a, b) => b.runs - a.runs || a.key.localeCompare(b.key))
}

/** A run's newest evaluation on the set, or null when it has none there. */
export function evaluationOn(evaluations: readonly Evaluation[], key: string): Evaluation | null {
  return evaluations.filter((e) => evaluationKey(e) === key).sort((a, b) => a.created.localeCompare(b.created)).at(-1) ?? null
}
