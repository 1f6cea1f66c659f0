/**
 * `datasets.info` on a big catalog: how long the server's event loop is blocked at most while it answers
 * (the longest stall seen by a 1 ms timer), against the whole-catalog count in one query that it replaced.
 * Usage: npx tsx bench/catalog-info.ts [clips=1430000] [dir=<tmp>]   (the catalog is kept in dir for reruns)
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRouter } from '../src/main/api/router'
import { workspaceServices } from '../src/main/api/services'
import { Catalog, type ClipRecord } from '../src/main/data/catalog'
import { DatasetCatalogs } from '../src/main/data/datasets'
import { JobRunner } from '../src/main/jobs/runner'
import { stall } from './stall'

const [clipsArg = '1430000', dirArg] = process.argv.slice(2)
const clips = Number(clipsArg)
const workspace = dirArg ?? mkdtempSync(join(tmpdir(), 'equiav-bench-info-'))

const c = Catalog.open(join(workspace, 'datasets', 'big'))
const have = c.lastSeq()
if (have < clips) {
  c.setClasses(Array.from({ length: 527 }, (_, k) => `class ${k}`))
  for (let from = have; from < clips; from += 20_000) {
    const batch: ClipRecord[] = []
    for (let i = from; i < Math.min(clips, from + 20_000); i++) {
      const status = i % 3 === 0 ? 'missing' : i % 40 === 0 ? 'quarantined' : 'ok'
      batch.push({
        id: `Y${i.toString(36).padStart(10, '0')}_0.000`, path: `/media/${i}.mp4`, size: 0, mtimeMs: 0, duration: status === 'ok' ? 10 : null, audio: null, video: null,
        labels: [i % 527], split: i % 10 === 0 ? 'test' : 'train', status, reason: status === 'quarantined' ? 'corrupt' : null, detail: null, hash: null, excluded: false
      })
    }
    c.upsert(batch)
  }
}

async function main(): Promise<void> {
  const oneQuery = await stall(async () => {
    c.counts()
    c.count({ excluded: true })
  })
  c.close()
  const router = createRouter(workspaceServices(workspace, 'bench', new JobRunner(workspace), new DatasetCatalogs(workspace)))
  const cold = await stall(() => router('datasets.info', { dataset: 'big' }))
  const warm = await stall(() => router('datasets.info', { dataset: 'big' }))
  const report = { clips, oneQueryCounts: oneQuery, datasetsInfoCold: cold, datasetsInfoWarm: warm }
  console.log(`${clips} clips: counts in one query block ${oneQuery.maxStallMs} ms; datasets.info cold ${cold.wallMs} ms with the longest stall ${cold.maxStallMs} ms, warm ${warm.wallMs} ms`)
  console.log(JSON.stringify(report))
  process.exit(0)
}

void main()
