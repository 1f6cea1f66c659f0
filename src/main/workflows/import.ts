/** A folder or manifest imported into a dataset, reporting progress; the end report counts clips by status. */
import { describeCounts, describeManifest, importDataset, type ImportSpec } from '../data/dataset-import'
import type { Reporter } from '../engine/report'

export interface ImportRequest extends ImportSpec {
  workspace: string
  dataset: string
}

export async function runImport(a: ImportRequest, reporter: Reporter): Promise<unknown> {
  const { workspace, dataset, ...spec } = a
  return importDataset(workspace, dataset, spec, reporter, (catalog, outcome) => {
    if (outcome.manifest) reporter.log(describeManifest(a.from, outcome.manifest))
    for (const w of outcome.warnings) reporter.log(`warning: ${w}`)
    reporter.log(`${dataset}: ${describeCounts(catalog)}`)
    return { ...outcome, counts: catalog.counts() }
  })
}
