/**
 * Seeded train/test assignment. Stratified: each class (by first label) is split in the same proportion.
 * Grouped: clips cut from one recording (one group, `dataset import --group-by`) all go to the same split,
 * so no recording is seen in training and then retrieved in test.
 */
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

/**
 * Like stratifiedSplit, with whole groups as the units: a group's class is its first clip's first label;
 * within a class the groups are visited in a seeded order and a group goes to test while that brings the
 * class's test clips closer to its share. A clip without a group is a group of its own.
 */
export function groupedSplit(groups: (string | null)[], firstLabels: number[], testFraction: number, seed: number): Split[] {
  const members = new Map<string, number[]>()
  groups.forEach((g, i) => {
    const key = g === null ? `\0${i}` : `${g}`
    members.set(key, [...(members.get(key) ?? []), i])
  })
  const byClass = new Map<number, string[]>()
  for (const [key, m] of members) byClass.set(firstLabels[m[0]], [...(byClass.get(firstLabels[m[0]]) ?? []), key])
  const out: Split[] = groups.map(() => 'train')
  const rng = new Rng(seed)
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const keys = byClass.get(label)!.sort()
    const target = keys.reduce((n, k) => n + members.get(k)!.length, 0) * testFraction
    let inTest = 0
    for (const k of rng.permutation(keys.length)) {
      const size = members.get(keys[k])!.length
      if (Math.abs(inTest + size - target) >= Math.abs(inTest - target)) continue
      inTest += size
      for (const i of members.get(keys[k])!) out[i] = 'test'
    }
  }
  return out
}
