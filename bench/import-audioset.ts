/**
 * Catalogue import at AudioSet-2M scale: writes a synthetic segments CSV in AudioSet's layout (comment
 * header, `YTID, start, end, "mid,mid"` rows with 1–4 labels out of 527 classes) and its
 * class_labels_indices.csv, then imports it without media (--no-probe, no media root), and again to
 * time a resume that finds every row present.
 * Usage: tsx bench/import-audioset.ts [rows=2000000] [dir=<tmp>]
 */
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { Catalog } from '../src/main/data/catalog'
import { audioSetSource } from '../src/main/data/importers/audioset'
import { importManifest } from '../src/main/data/importers/manifest-import'
import { readClassLabels } from '../src/main/data/importers/manifest-reader'

const [rowsArg = '2000000', dirArg] = process.argv.slice(2)
const rows = Number(rowsArg)
const dir = dirArg ?? mkdtempSync(join(tmpdir(), 'equiav-bench-import-'))
const CLASSES = 527
const mid = (k: number): string => `/m/${k.toString(36).padStart(5, '0')}`

writeFileSync(join(dir, 'class_labels_indices.csv'), ['index,mid,display_name', ...Array.from({ length: CLASSES }, (_, k) => `${k},${mid(k)},"Class ${k}, synthetic"`)].join('\n') + '\n')
const csv = join(dir, 'unbalanced_train_segments.csv')
const out = createWriteStream(csv)
out.write(`# Segments csv created for a benchmark\n# num_ytids=${rows}, num_segs=${rows}, num_unique_labels=${CLASSES}\n# YTID, start_seconds, end_seconds, positive_labels\n`)
let s = 12345
const rand = (n: number): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % n)
for (let i = 0; i < rows; i++) {
  const labels = Array.from({ length: 1 + rand(4) }, () => mid(rand(CLASSES))).join(',')
  const start = rand(300)
  if (!out.write(`${i.toString(36).padStart(11, '-')}, ${start}.000, ${start + 10}.000, "${labels}"\n`)) await once(out, 'drain')
}
out.end()
await once(out, 'finish')

const catalog = Catalog.open(join(dir, 'dataset'))
const source = audioSetSource(csv, await readClassLabels(join(dir, 'class_labels_indices.csv')), 'train')
const t0 = performance.now()
const first = await importManifest({ source, catalog, probe: false })
const importS = (performance.now() - t0) / 1000
const t1 = performance.now()
const again = await importManifest({ source, catalog, probe: false })
const resumeS = (performance.now() - t1) / 1000
const counts = catalog.counts()
catalog.close()
console.log(JSON.stringify({ rows, import_s: Number(importS.toFixed(1)), rows_per_s: Math.round(rows / importS), resume_s: Number(resumeS.toFixed(1)), added: first.added, resumed_skipped: again.skipped, counts: { total: counts.total, missing: counts.missing } }))
if (!dirArg) rmSync(dir, { recursive: true, force: true })
