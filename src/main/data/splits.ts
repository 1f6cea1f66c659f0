/** Seeded stratified train/test assignment: each class (by first label) is split in the same proportion. */
import { Rng } from '../engine/rng'
import type { Split } from './catalog'

export function stratifiedSplit(firstLabels: number[], testFraction: number, seed: number): Split[] {
  const byClass = new Map<number, number[]>()
  firstLabels.forEach((label, i) => byClass.set(label, [...(byClass.get(label) ?? []), i]))
  const out: Split[] = firstLabels.map(() => 'train')
  const rng = new Rng(seed)
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = byClass.get(label)!
    const order = rng.permutation(members.length)
    const nTest = Math.round(members.length * testFraction)
    for (let k = 0; k < nTest; k++) out[members[order[k]]] = 'test'
  }
  return out
}
