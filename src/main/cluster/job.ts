/** The `cluster-export` job: the Train view's "Run on a cluster", as `equiav cluster export` does it. */
import { PRESETS } from '../engine/config'
import { PRETRAIN_DEFAULTS } from '../engine/train/pretrain'
import { Catalog } from '../data/catalog'
import { datasetModel } from '../data/dataset-source'
import { checkName, datasetDir } from '../workspace'
import type { JobContext } from '../jobs/context'
import type { ClusterExportJobArgs } from '../jobs/protocol'
import { type ClusterExportResult, exportForCluster } from './export'

export async function runClusterExport(a: ClusterExportJobArgs, ctx: JobContext): Promise<ClusterExportResult> {
  const overrides = a.cenNum ? { cenNum: a.cenNum } : {}
  const model = datasetModel(a.workspace, checkName('dataset', a.dataset), { ...PRESETS[a.preset], ...overrides })
  const catalog = Catalog.open(datasetDir(a.workspace, a.dataset))
  try {
    const result = await exportForCluster({
      catalog,
      dataset: a.dataset,
      run: checkName('run', a.run),
      out: a.out,
      training: {
        ...PRETRAIN_DEFAULTS,
        preset: a.preset,
        objective: a.objective,
        steps: a.steps,
        batchSize: a.batchSize,
        lr: a.lr,
        seed: a.seed,
        timeRoll: a.timeRoll,
        checkpointEvery: a.checkpointEvery,
        model: { ...overrides, inputNorm: model.inputNorm },
        data: { kind: 'dataset', name: a.dataset }
      },
      dataRef: a.dataRef,
      runDir: a.runDir,
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
