/**
 * Register a demo build (src/main/data/demo.ts) in a catalog. The clips were written by us, so they are
 * not probed again; labels put the first digit first (the single-label target) followed by the other
 * digits present (together, the multi-label target), and the builder's train/test split is kept.
 * Clips registered before keep the labels, split and exclusion the user may have edited since.
 */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Catalog, ClipRecord } from '../catalog'
import type { DemoManifest } from '../demo'
import { sha256File } from '../inspect'

export async function importDemoManifest(mediaDir: string, manifest: DemoManifest, catalog: Catalog): Promise<number> {
  if (!manifest.complete) throw new Error(`${join(mediaDir, 'manifest.json')}: the demo build is incomplete; run create-demo again to finish it`)
  catalog.setClasses(manifest.classes)
  catalog.setMeta('source', 'demo')
  const records: ClipRecord[] = []
  for (const c of manifest.clips) {
    const path = join(mediaDir, c.file)
    const st = await stat(path)
    records.push({
      id: c.id,
      path,
      size: st.size,
      mtimeMs: st.mtimeMs,
      duration: manifest.settings.durationSec,
      audio: `aac ${manifest.settings.sampleRate} Hz 1 ch`,
      video: `h264 ${manifest.settings.frameSize}×${manifest.settings.frameSize}`,
      labels: [c.firstDigit, ...c.labels.filter((d) => d !== c.firstDigit)],
      split: c.split,
      status: 'ok',
      reason: null,
      detail: null,
      hash: await sha256File(path),
      excluded: false
    })
  }
  // re-registering (create-demo run again) must not undo the user's relabelling, split moves or exclusions
  catalog.upsertKeepingEdits(records)
  return records.length
}
