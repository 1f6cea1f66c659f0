/**
 * Embeddings on disk: NumPy arrays with their clip ids, or TensorBoard-projector TSV; plus a 2-D map
 * (PCA, or seeded UMAP) of both modalities in one space, each centred on its own mean.
 * Every file is written atomically.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Embeddings } from '../engine/eval/embed'
import { jointCentredPerModality } from '../engine/eval/map-projection'
import { pca } from '../engine/eval/projection'
import { umap2d } from '../engine/eval/umap'
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic'
import { encodeNpy } from './npy'

export type Projection = 'pca' | 'umap'

/** the 2-D map of the audio rows, then the visual rows, in one space: [2n, 2]; each modality's mean is subtracted first, so the first axis is not spent on the gap between them */
export function projectEmbeddings(e: Embeddings, projection: Projection, seed = 0): Float32Array {
  const rows = jointCentredPerModality(e.audio, e.visual, e.dim)
  return projection === 'umap' ? umap2d(rows, e.dim, { seed }) : pca(rows, e.dim, 2).coords
}

export async function exportEmbeddings(
  e: Embeddings,
  classes: string[],
  dir: string,
  format: 'npy' | 'tsv',
  o: { projection?: Projection; seed?: number } = {}
): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  const n = e.ids.length
  const labelName = (l: number): string => classes[l] ?? String(l)
  const projection = o.projection ?? 'pca'
  const written: string[] = []
  const write = async (name: string, data: Uint8Array | string): Promise<void> => {
    await writeFileAtomic(join(dir, name), data)
    written.push(join(dir, name))
  }
  if (format === 'npy') {
    await write('audio.npy', encodeNpy(e.audio, [n, e.dim]))
    await write('visual.npy', encodeNpy(e.visual, [n, e.dim]))
    const map = `${projection}2d.npy`
    await write(map, encodeNpy(projectEmbeddings(e, projection, o.seed), [2 * n, 2]))
    await writeJsonAtomic(join(dir, 'ids.json'), { ids: e.ids, labels: e.labels.map(labelName), rows: `${map} holds the audio rows, then the visual rows` })
    written.push(join(dir, 'ids.json'))
  } else {
    const rows = (x: Float32Array): string[] => Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * e.dim, (i + 1) * e.dim)).join('\t'))
    await write('vectors.tsv', [...rows(e.audio), ...rows(e.visual)].join('\n') + '\n')
    const meta = ['id\tmodality\tlabel', ...['audio', 'visual'].flatMap((m) => e.ids.map((id, i) => `${id}\t${m}\t${labelName(e.labels[i])}`))]
    await write('metadata.tsv', meta.join('\n') + '\n')
  }
  return written
}
