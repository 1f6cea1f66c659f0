import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { exportEmbeddings } from '../../src/main/data/embeddings-export'
import { decodeNpy } from '../../src/main/data/npy'

const dir = mkdtempSync(join(tmpdir(), 'equiav-emb-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const emb = {
  ids: ['a', 'b', 'c'],
  labels: [0, 1, 1],
  dim: 2,
  audio: Float32Array.from([1, 0, 0, 1, 0.6, 0.8]),
  visual: Float32Array.from([0.8, 0.6, 0, 1, 1, 0])
}

describe('exportEmbeddings', () => {
  it('writes .npy arrays with their ids and a 2-D map of both modalities', async () => {
    await exportEmbeddings(emb, ['cat', 'dog'], join(dir, 'npy'), 'npy')
    const audio = decodeNpy(new Uint8Array(readFileSync(join(dir, 'npy', 'audio.npy'))))
    expect(audio.shape).toEqual([3, 2])
    expect(Array.from(audio.data)).toEqual(Array.from(emb.audio))
    expect(decodeNpy(new Uint8Array(readFileSync(join(dir, 'npy', 'pca2d.npy')))).shape).toEqual([6, 2])
    expect(JSON.parse(readFileSync(join(dir, 'npy', 'ids.json'), 'utf8'))).toMatchObject({ ids: ['a', 'b', 'c'], labels: ['cat', 'dog', 'dog'] })
  })
  it('writes a seeded UMAP map instead of PCA when asked, the same for the same seed', async () => {
    const wide = { ...emb, ids: ['a', 'b', 'c', 'd'], labels: [0, 1, 1, 0], audio: Float32Array.from([1, 0, 0, 1, 0.6, 0.8, 0.8, 0.6]), visual: Float32Array.from([0.8, 0.6, 0, 1, 1, 0, 0.6, 0.8]) }
    const files = await exportEmbeddings(wide, ['cat', 'dog'], join(dir, 'umap'), 'npy', { projection: 'umap', seed: 4 })
    expect(files.map((f) => f.split(/[\\/]/).pop())).toContain('umap2d.npy')
    const first = decodeNpy(new Uint8Array(readFileSync(join(dir, 'umap', 'umap2d.npy'))))
    expect(first.shape).toEqual([8, 2])
    await exportEmbeddings(wide, ['cat', 'dog'], join(dir, 'umap'), 'npy', { projection: 'umap', seed: 4 })
    expect(Array.from(decodeNpy(new Uint8Array(readFileSync(join(dir, 'umap', 'umap2d.npy')))).data)).toEqual(Array.from(first.data))
    expect(JSON.parse(readFileSync(join(dir, 'umap', 'ids.json'), 'utf8')).rows).toMatch(/^umap2d\.npy/)
  })
  it('writes TensorBoard-projector TSV: vectors, and metadata with a header', async () => {
    await exportEmbeddings(emb, ['cat', 'dog'], join(dir, 'tsv'), 'tsv')
    const vectors = readFileSync(join(dir, 'tsv', 'vectors.tsv'), 'utf8').trim().split('\n')
    expect(vectors).toHaveLength(6)
    expect(vectors[3].split('\t').map(Number)).toEqual([0.800000011920929, 0.6000000238418579])
    const meta = readFileSync(join(dir, 'tsv', 'metadata.tsv'), 'utf8').trim().split('\n')
    expect(meta[0]).toBe('id\tmodality\tlabel')
    expect(meta[4]).toBe('a\tvisual\tcat')
  })
})
