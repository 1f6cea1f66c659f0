/** The `cluster-export` job: the Train view's "Run on a cluster", as `equiav cluster export` does it. */
import { Catalog } from '../data/catalog'
import type { Reporter } from '../engine/report'
import { requestModel, trainingOptions } from '../workflows/pretrain'
import { checkName, datasetDir } from '../workspace'
import { type ClusterExportArgs, PretrainRequestSchema } from '../../shared/contract'
import { type ClusterExportResult, exportForCluster } from './export'

export type ClusterExportRequest = ClusterExportArgs & { workspace: string }

export async function runClusterExport(a: ClusterExportRequest, ctx: Reporter): Promise<ClusterExportResult> {
  const { workspace, out, dataRef, runDir, ...settings } = a
  const request = PretrainRequestSchema.parse(settings)
  const catalog = Catalog.open(datasetDir(workspace, checkName('dataset', a.dataset)))
  try {
    const result = await exportForCluster({
      catalog,
      dataset: a.dataset,
      run: checkName('run', a.run),
      out,
      training: { ...trainingOptions(request, requestModel(workspace, request)), data: { kind: 'dataset', name: a.dataset } },
      dataRef,
      runDir,
      signal: ctx.signal,
      onProgress: (p) => ctx.progress({ done: p.done, total: p.total, unit: 'clips' }),
      log: ctx.log
    })
    if (!result.stopped) {
      ctx.log(`${result.out} is ready (${result.trainClips} training clips): on the cluster ./launch-torchrun.sh or sbatch launch.sbatch, ` +
        `then attach ${result.out} as run ${a.run} in the Runs view`)
    }
    return result
  } finally {
    catalog.close()
  }
}
