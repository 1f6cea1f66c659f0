import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiServer } from '../../src/main/api/http'
import { createRouter } from '../../src/main/api/router'
import { workspaceServices } from '../../src/main/api/services'
import { Catalog, type ClipRecord } from '../../src/main/data/catalog'
import { exportEmbeddings } from '../../src/main/data/embeddings-export'
import { embeddingsDir, runEmbeddingKind, writeRetrievalReport } from '../../src/main/runs/embeddings'
import { jointCentredPerModality } from '../../src/main/engine/eval/map-projection'
import { pca } from '../../src/main/engine/eval/projection'
import { JobRunner } from '../../src/main/jobs/runner'
import { decodeColumns, MAP_COLUMNS } from '../../src/shared/columns'
import { binaryPath } from '../../src/shared/contract'
import { finetuneConfigFixture, pretrainConfigFixture } from '../helpers/runs'
import { useTestBackend } from '../helpers/tf'

const workspace = mkdtempSync(join(tmpdir(), 'equiav-analysis-api-'))
const token = 'd'.repeat(48)
let router: ReturnType<typeof createRouter>
let server: ReturnType<typeof createApiServer>
let base: string

// four clips; audio i is closest to visual i except clip c, whose audio is closest to visual a
const s = Math.SQRT1_2
const emb = {
  ids: ['a', 'b', 'c', 'd'],
  labels: [0, 1, 1, 0],
  dim: 2,
  audio: Float32Array.from([1, 0, 0, 1, 1, 0, -1, 0]),
  visual: Float32Array.from([1, 0, 0, 1, s, s, -s, -s])
}
const target = { run: 'r1', dataset: 'd1', split: 'test' as const }

const clip = (id: string, labels: number[]): ClipRecord => ({
  id, path: `/nowhere/${id}.mp4`, size: 1, mtimeMs: 0, duration: 3, audio: 'pcm', video: 'h264', labels,
  split: 'test', status: 'ok', reason: null, detail: null, hash: null, excluded: false
})

beforeAll(async () => {
  await useTestBackend()
  const catalog = Catalog.open(join(workspace, 'datasets', 'd1'))
  catalog.setClasses(['one', 'two'])
  catalog.upsert([clip('a', [0]), clip('b', [1, 0]), clip('c', [1]), clip('d', [0])])
  catalog.close()
  // r2 and r4 fine-tune r1; r4's lineage is of a version that recorded neither kind nor step
  const configs = {
    r1: pretrainConfigFixture({ run: 'r1' }),
    r2: { ...finetuneConfigFixture({ run: 'r2' }), lineage: { from: 'r1', step: 3 } },
    r3: pretrainConfigFixture({ run: 'r3', objective: 'inter-only' }),
    r4: { ...finetuneConfigFixture({ run: 'r4' }), lineage: { from: 'r1' } }
  }
  for (const [run, config] of Object.entries(configs)) {
    mkdirSync(join(workspace, 'runs', run), { recursive: true })
    writeFileSync(join(workspace, 'runs', run, 'config.json'), JSON.stringify(config))
  }
  await exportEmbeddings(emb, ['one', 'two'], embeddingsDir(workspace, 'r1', 'd1', 'test'), 'npy')
  await writeRetrievalReport({ workspace, ...target, kind: 'centroid', seed: 0 }, emb, ['one', 'two'], 3)
  // an older report of another split: the newest one is the run's latest
  await writeRetrievalReport({ workspace, ...target, split: 'train', kind: 'centroid', seed: 0 }, emb, ['one', 'two'], 1)
  utimesSync(join(workspace, 'runs', 'r1', 'retrieval-d1-train-centroid.json'), new Date(2000, 1, 1), new Date(2000, 1, 1))
  // an inter-only run never trained its predictor: its reports are of the mean-pooled embedding
  await writeRetrievalReport({ workspace, ...target, run: 'r3', kind: 'original', seed: 0 }, emb, ['one', 'two'], 2)
  router = createRouter(workspaceServices(workspace, '1', new JobRunner(workspace)))
  server = createApiServer({ router, token, staticDir: join(workspace, 'static') })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise<void>((ok) => server.close(() => ok()))
  rmSync(workspace, { recursive: true, force: true })
})

describe('retrieval API', () => {
  it('answers a query with the top-k of the other modality, the true pair marked and ranked', async () => {
    // audio c = [1, 0]: visual a (1), visual c (0.707), visual b (0), visual d (-0.707)
    const r = (await router('retrieval.query', { ...target, clipId: 'c', direction: 'a2v', k: 3 })) as {
      rank: number; n: number; hits: { id: string; score: number; truePair: boolean; labels: string[] }[]; query: { labels: string[] }
    }
    expect(r.n).toBe(4)
    expect(r.rank).toBe(2)
    expect(r.hits.map((h) => h.id)).toEqual(['a', 'c', 'b'])
    expect(r.hits.map((h) => h.truePair)).toEqual([false, true, false])
    expect(r.hits[1].score).toBeCloseTo(s, 6)
    expect(r.hits[2].labels).toEqual(['two', 'one']) // every label from the catalog
    expect(r.query.labels).toEqual(['two'])
    // visual d = [-s, -s]: audio d (s), audio b/a/c …
    const v = (await router('retrieval.query', { ...target, clipId: 'd', direction: 'v2a', k: 1 })) as { rank: number; hits: { id: string }[] }
    expect(v).toMatchObject({ rank: 1, hits: [{ id: 'd' }] })
  })
  it('summarises R@K overall and per class from the stored report', async () => {
    const sum = (await router('retrieval.summary', target)) as { n: number; a2v: Record<string, number>; per_class: Record<string, { n: number }> }
    expect(sum.n).toBe(4)
    expect(sum.a2v['R@1']).toBe(75) // a, b, d first; c second
    expect(sum.a2v.median_rank).toBe(1)
    expect(Object.keys(sum.per_class)).toEqual(['one', 'two'])
    expect(await router('retrieval.summary', { ...target, split: 'val' })).toBeNull()
  })
  it("reads each run's own embedding kind: the centroid for equiav, the mean-pooled original otherwise", async () => {
    expect(await runEmbeddingKind(workspace, 'r1')).toBe('centroid')
    expect(await runEmbeddingKind(workspace, 'r3')).toBe('original')
    expect(await router('retrieval.summary', { ...target, run: 'r3' })).toMatchObject({ embedding: 'original', step: 2 })
    expect(await runEmbeddingKind(workspace, 'r2')).toBe('centroid') // a fine-tuned EquiAV encoder
    await expect(runEmbeddingKind(workspace, 'nope')).rejects.toThrow(/runs[\\/]nope: not a run folder \(no config\.json\)/)
  })
  it('gives every run its lineage and newest retrieval', async () => {
    const runs = (await router('runs.retrieval', {})) as { run: string; lineage: unknown; latest: { split: string; a2v: { 'R@1': number } } | null }[]
    expect(runs.map((r) => r.run)).toEqual(['r1', 'r2', 'r3', 'r4'])
    expect(runs[0]).toMatchObject({ lineage: null, latest: { split: 'test', step: 3, a2v: { 'R@1': 75 } } })
    expect(runs[1]).toMatchObject({ lineage: { from: 'r1', step: 3 }, latest: null })
    expect(runs[2]).toMatchObject({ lineage: null, latest: { split: 'test', step: 2 } }) // a pretraining run has no lineage
    expect(runs[3].lineage).toEqual({ from: 'r1', kind: 'run', step: null })
    // the splits whose embeddings a run stores (the analysis views open on one of those); an unfinished export does not count
    mkdirSync(embeddingsDir(workspace, 'r3', 'd1', 'train'), { recursive: true })
    const again = (await router('runs.retrieval', {})) as { run: string; embedded: string[] }[]
    expect(again.map((r) => r.embedded)).toEqual([['d1-test'], [], [], []])
  })
  it('names a run folder whose config.json is malformed, with the reason', async () => {
    const dir = join(workspace, 'runs', 'broken')
    mkdirSync(dir)
    try {
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...finetuneConfigFixture({ run: 'broken' }), lineage: { step: 3 } }))
      await expect(router('runs.retrieval', {})).rejects.toThrow(/runs[\\/]broken[\\/]config\.json: not a run config this version reads \(lineage\.from: /)
      writeFileSync(join(dir, 'config.json'), '{"objective": ')
      await expect(router('retrieval.summary', { ...target, run: 'broken' })).rejects.toThrow(/runs[\\/]broken[\\/]config\.json: not valid JSON/)
    } finally {
      rmSync(dir, { recursive: true })
    }
  })
  it('refuses bad input with messages naming the field', async () => {
    await expect(router('retrieval.query', { ...target, clipId: 'a', direction: 'up' })).rejects.toThrow(/retrieval.query: direction: Invalid option: expected one of "a2v"\|"v2a"/)
    await expect(router('retrieval.query', { ...target, clipId: 'a', direction: 'a2v', k: 0 })).rejects.toThrow(/k: .*>=1/)
    await expect(router('retrieval.query', { ...target, clipId: '', direction: 'a2v' })).rejects.toThrow(/clipId: a clip id/)
    await expect(router('embeddings.map', { ...target, run: '../x' })).rejects.toThrow(/embeddings.map: run: a run name/)
    await expect(router('retrieval.summary', { ...target, split: 'all' })).rejects.toThrow(/split:/)
    await expect(router('retrieval.query', { ...target, clipId: 'zz', direction: 'a2v' })).rejects.toThrow(/clip "zz" is not in the test split of d1 embedded by r1/)
    await expect(router('retrieval.query', { ...target, run: 'r2', clipId: 'a', direction: 'a2v' })).rejects.toThrow(/run "r2" has no embeddings of d1 \(test\) yet/)
    await expect(router('analysis.embed', { ...target, run: 'nope' })).rejects.toThrow(/no run "nope"/)
  })
})

describe('embedding map', () => {
  it('sends ids, labels, splits and status as JSON and the coordinates as binary columns over HTTP', async () => {
    const meta = (await router('embeddings.map', target)) as Record<string, unknown>
    expect(meta).toMatchObject({ n: 4, ids: emb.ids, labels: [0, 1, 1, 0], splits: ['test', 'test', 'test', 'test'], status: ['ok', 'ok', 'ok', 'ok'], classes: ['one', 'two'], columns: [...MAP_COLUMNS] })
    expect(await router('embeddings.map', { ...target, run: 'r2' })).toBeNull()
    const res = await fetch(base + binaryPath('embeddings.points', target), { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/octet-stream')
    const cols = decodeColumns(await res.arrayBuffer(), 4, MAP_COLUMNS)
    // by default the PCA of both modalities in one space, each centred on its own mean
    const want = pca(jointCentredPerModality(emb.audio, emb.visual, 2), 2, 2).coords // audio rows, then visual rows
    expect(Array.from(cols.ax)).toEqual([0, 1, 2, 3].map((i) => want[2 * i]))
    expect(Array.from(cols.vy)).toEqual([0, 1, 2, 3].map((i) => want[2 * (4 + i) + 1]))
    expect(await router('embeddings.progress', target)).toEqual({ state: 'ready' })
  })
  it('projects one modality alone, or by UMAP, as the query string asks; progress before and after', async () => {
    const auth = { headers: { authorization: `Bearer ${token}` } }
    const audioOnly = decodeColumns(await (await fetch(base + binaryPath('embeddings.points', { ...target, projection: { space: 'audio' } }), auth)).arrayBuffer(), 4, MAP_COLUMNS)
    const want = pca(emb.audio, 2, 2).coords
    expect(Array.from(audioOnly.ay)).toEqual([0, 1, 2, 3].map((i) => want[2 * i + 1]))
    expect(Array.from(audioOnly.vx).every(Number.isNaN)).toBe(true)
    const umap = { method: 'umap' as const, nNeighbors: 3, seed: 5 }
    expect(await router('embeddings.progress', { ...target, projection: umap })).toBeNull() // never asked for
    const path = binaryPath('embeddings.points', { ...target, projection: umap })
    expect(path).toMatch(/\?method=umap&nNeighbors=3&seed=5$/)
    const a = new Uint8Array(await (await fetch(base + path, auth)).arrayBuffer())
    expect(a.byteLength).toBe(4 * 4 * 4)
    expect(await router('embeddings.progress', { ...target, projection: umap })).toEqual({ state: 'ready' })
    // the same parameters over IPC give the same bytes (computed once); another seed another layout
    expect(await router('embeddings.points', { ...target, projection: umap })).toEqual(a)
    expect(await router('embeddings.points', { ...target, projection: { ...umap, seed: 6 } })).not.toEqual(a)
    const bad = await fetch(base + binaryPath('embeddings.points', { ...target, projection: { method: 'umap', nNeighbors: 1 } }), auth)
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: string }).error).toMatch(/projection\.nNeighbors: .*>=2/)
  })
  it("gives each clip's rank of its true pair, as the stored report counts them", async () => {
    // audio c = [1, 0] ranks visual a first, its own visual c second; every other clip finds its pair first
    expect(await router('embeddings.ranks', target)).toEqual({ a2v: [1, 1, 2, 1], v2a: [1, 1, 1, 1] })
  })
  it('shows a bulk edit of the catalog in the next map metadata: label, split, exclusion', async () => {
    await router('datasets.editMany', { dataset: 'd1', clips: ['a', 'd'], excluded: true, split: 'val' })
    await router('datasets.editMany', { dataset: 'd1', clips: ['b'], primary: 0 })
    try {
      expect(await router('embeddings.map', target)).toMatchObject({ labels: [0, 0, 1, 0], splits: ['val', 'test', 'test', 'val'], status: ['excluded', 'ok', 'ok', 'excluded'] })
    } finally {
      await router('datasets.editMany', { dataset: 'd1', clips: ['a', 'd'], excluded: false, split: 'test' })
      await router('datasets.editMany', { dataset: 'd1', clips: ['b'], primary: 1 })
    }
  })
  it('needs the token, a GET and a known path; bad names are refused', async () => {
    expect((await fetch(base + binaryPath('embeddings.points', target))).status).toBe(401)
    const auth = { authorization: `Bearer ${token}` }
    expect((await fetch(base + binaryPath('embeddings.points', target), { method: 'POST', headers: auth })).status).toBe(405)
    expect((await fetch(`${base}/api-bin/embeddings/r1/d1`, { headers: auth })).status).toBe(404)
    const bad = await fetch(`${base}/api-bin/embeddings/..%2F..%2Fetc/d1/test`, { headers: auth })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: string }).error).toMatch(/embeddings.points: run: a run name/)
  })
})
