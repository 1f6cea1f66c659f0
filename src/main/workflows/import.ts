/** A folder or manifest imported into a dataset, reporting progress; the end report counts clips by status. */
import { Catalog } from '../data/catalog'
import { describeCounts, describeManifest, importIntoCatalog, type ImportSpec } from '../data/dataset-import'
import type { Reporter } from '../engine/report'
import { checkName, datasetDir } from '../workspace'

export interface ImportRequest extends ImportSpec {
  workspace: string
  dataset: string
}

export async function runImport(a: ImportRequest, reporter: Reporter): Promise<unknown> {
  const catalog = Catalog.open(datasetDir(a.workspace, checkName('dataset', a.dataset)))
  try {
    const { workspace: _workspace, dataset: _dataset, ...spec } = a
    const outcome = await importIntoCatalog(spec, catalog, reporter)
    if (outcome.manifest) reporter.log(describeManifest(a.from, outcome.manifest))
    reporter.log(`${a.dataset}: ${describeCounts(catalog)}`)
    return { ...outcome, counts: catalog.counts() }
  } finally {
    catalog.close()
  }
}
