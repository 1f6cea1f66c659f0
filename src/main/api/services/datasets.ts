/** Datasets: catalogs opened by name through src/main/data/datasets.ts. */
import type { DATASETS_METHODS } from '../../../shared/methods'
import { listDatasets, withDataset } from '../../data/datasets'
import type { AreaServices, ServiceContext } from './types'

export function datasetsServices({ workspace }: ServiceContext): AreaServices<typeof DATASETS_METHODS> {
  return {
    'datasets.list': async () => {
      const out = []
      for (const name of await listDatasets(workspace)) {
        out.push(await withDataset(workspace, name, (c) => {
          const n = c.counts()
          return { name, total: n.total, ok: n.ok, quarantined: n.quarantined, classes: c.classes().length }
        }))
      }
      return out
    }
  }
}
