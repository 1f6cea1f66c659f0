/**
 * The clip list sorted on a big catalog, as the Datasets view asks for it (datasets.clips, datasets.position):
 * per sort column, the first page (cold: the sort's page index built, and its expression index made the first
 * time) with the longest event-loop stall while it is answered, a page deep in the list (warm), and a clip's
 * position. Usage: npx tsx bench/clip-sort.ts [clips=300000] [dir=<tmp>]   (the catalog is kept in dir for reruns)
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRouter } from '../src/main/api/router'
import { workspaceServices } from '../src/main/api/services'
import { Catalog, type ClipRecord, SORT_COLUMNS } from '../src/main/data/catalog'
import { DatasetCatalogs } from '../src/main/data/datasets'
import { JobRunner } from '../src/main/jobs/runner'
import { stall } from './stall'

const [clipsArg = '300000', dirArg] = process.argv.slice(2)
const clips = Number(clipsArg)
const workspace = dirArg ?? mkdtempSync(join(tmpdir(), 'equiav-bench-sort-'))
const idOf = (i: number): string => `c${String(i).padStart(7, '0')}.mp4`

const c = Catalog.open(join(workspace, 'datasets', 'big'))
const have = c.lastSeq()
if (have < clips) {
  c.setClasses(Array.from({ length: 50 }, (_, k) => `class ${k}`))
  for (let from = have; from < clips; from += 20_000) {
    const batch: ClipRecord[] = []
    for (let i = from; i < Math.min(clips, from + 20_000); i++) {
      // ties everywhere: 10 durations, 50 labels, nearly every clip ok and in train
      batch.push({
        id: idOf(i), path: `/media/${i}.mp4`, size: 0, mtimeMs: 0, duration: 1 + (i % 10), audio: null, video: null,
        labels: [i % 50], split: i % 10 === 0 ? 'test' : 'train', status: i % 40 === 0 ? 'quarantined' : 'ok', reason: null, detail: null, hash: null, excluded: false
      })
    }
    c.upsert(batch)
  }
}
c.close()

async function main(): Promise<void> {
  const router = createRouter(workspaceServices(workspace, 'bench', new JobRunner(workspace), new DatasetCatalogs(workspace)))
  const report: Record<string, unknown> = { clips }
  for (const by of SORT_COLUMNS) {
    const sort = { by, desc: by === 'status' }
    const first = await stall(() => router('datasets.clips', { dataset: 'big', offset: 0, limit: 200, sort }))
    const deep = await stall(() => router('datasets.clips', { dataset: 'big', offset: Math.floor(clips * 0.8), limit: 200, sort }))
    const position = await stall(() => router('datasets.position', { dataset: 'big', clip: idOf(Math.floor(clips / 3)), sort }))
    report[by] = { firstPageCold: first, deepPage: deep, position }
    console.log(`${by}: first page (cold) ${first.wallMs} ms, longest stall ${first.maxStallMs} ms; page at ${Math.floor(clips * 0.8)} ${deep.wallMs} ms; position ${position.wallMs} ms`)
  }
  console.log(JSON.stringify(report))
  process.exit(0)
}

void main()
