import { describe, expect, it } from 'vitest'
import { MapTasks, type MapTask, runMapTask } from '../../src/main/analysis/map-tasks'
import { truePairRanks } from '../../src/main/analysis/true-pair-ranks'
import { projectMap } from '../../src/main/engine/eval/map-projection'
import { Rng } from '../../src/main/engine/rng'

function unitRows(n: number, d: number, seed: number): Float32Array {
  const rng = new Rng(seed)
  const x = Float32Array.from({ length: n * d }, () => rng.normal())
  for (let i = 0; i < n; i++) {
    const row = x.subarray(i * d, (i + 1) * d)
    const norm = Math.hypot(...row)
    row.forEach((v, j) => (row[j] = v / norm))
  }
  return x
}

describe('truePairRanks', () => {
  it("is each query's 1-based position of its own pair when the gallery is sorted by similarity", () => {
    const n = 40
    const d = 5
    const q = unitRows(n, d, 1)
    const g = unitRows(n, d, 2)
    const dot = (i: number, j: number): number => q.subarray(i * d, (i + 1) * d).reduce((s, v, k) => s + v * g[j * d + k], 0)
    const want = Array.from({ length: n }, (_, i) => {
      const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => dot(i, b) - dot(i, a))
      return order.indexOf(i) + 1
    })
    const seen: number[] = []
    expect(Array.from(truePairRanks(q, g, d, (done) => seen.push(done)))).toEqual(want)
    expect(seen.at(-1)).toBe(n)
    expect(Array.from(truePairRanks(q, q, d))).toEqual(Array(n).fill(1)) // every row is nearest itself
  })
})

describe('MapTasks', () => {
  const task = (): MapTask => ({ task: 'ranks', audio: new Float32Array(2), visual: new Float32Array(2), dim: 1 })

  it('computes a key once, shows its progress while it runs, and keeps the result', async () => {
    let calls = 0
    let report: (done: number, total: number) => void = () => undefined
    let finish: (c: Float32Array[]) => void = () => undefined
    const tasks = new MapTasks(8, (_t, onProgress) => {
      calls++
      report = onProgress
      return new Promise((ok) => (finish = ok))
    })
    expect(tasks.state('k')).toBeNull()
    const first = tasks.get('k', task)
    const second = tasks.get('k', task)
    report(3, 10)
    expect(tasks.state('k')).toEqual({ state: 'computing', done: 3, total: 10 })
    finish([Float32Array.from([7])])
    expect(await first).toEqual([Float32Array.from([7])])
    expect(await second).toBe(await first)
    expect(tasks.state('k')).toEqual({ state: 'ready' })
    await tasks.get('k', task)
    expect(calls).toBe(1)
  })

  it('reports a failure with its reason, and starts the task again when it is asked for again', async () => {
    let calls = 0
    const tasks = new MapTasks(8, async () => {
      calls++
      if (calls === 1) throw new Error('out of memory')
      return [new Float32Array(1)]
    })
    await expect(tasks.get('k', task)).rejects.toThrow('out of memory')
    expect(tasks.state('k')).toEqual({ state: 'failed', error: 'out of memory' })
    await expect(tasks.get('k', task)).resolves.toHaveLength(1)
    expect(calls).toBe(2)
  })

  it('keeps only the newest results, never dropping one that is still computing', async () => {
    const tasks = new MapTasks(2, (t) => (t.dim === 0 ? new Promise(() => undefined) : Promise.resolve([])))
    void tasks.get('a', () => ({ ...task(), dim: 0 })) // never ends
    for (const k of ['b', 'c', 'd']) await tasks.get(k, task)
    expect(tasks.state('a')).toEqual({ state: 'computing', done: 0, total: 0 })
    expect(tasks.state('b')).toBeNull()
    expect(tasks.state('d')).toEqual({ state: 'ready' })
  })
})

describe('runMapTask', () => {
  it('computes a projection in a worker thread, as projectMap does on the caller thread', async () => {
    const audio = unitRows(30, 4, 3)
    const visual = unitRows(30, 4, 4)
    const projection = { method: 'umap' as const, space: 'joint' as const, nNeighbors: 5, minDist: 0.1, seed: 2 }
    let last: [number, number] = [0, 0]
    const got = await runMapTask({ task: 'project', audio, visual, dim: 4, projection }, (done, total) => (last = [done, total]))
    const want = projectMap(audio, visual, 4, projection)
    expect(got).toEqual([want.ax, want.ay, want.vx, want.vy])
    expect(last[0]).toBe(last[1])
    expect(audio).toHaveLength(120) // the caller's arrays were copied, not moved
  })

  it('rejects with the reason a task fails for', async () => {
    const projection = { method: 'umap' as const, space: 'audio' as const, nNeighbors: 5, minDist: 0.1, seed: 0 }
    await expect(runMapTask({ task: 'project', audio: new Float32Array(4), visual: new Float32Array(4), dim: 2, projection }, () => undefined)).rejects.toThrow(/UMAP needs at least 3 points/)
  })
})
