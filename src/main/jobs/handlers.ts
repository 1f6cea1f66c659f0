/** The jobs an engine process can run. */
import { PRESETS } from '../engine/config'
import { PRETRAIN_DEFAULTS, runPretrain } from '../engine/train/pretrain'
import { syntheticSource } from '../engine/train/synthetic-source'
import { resolveWorkers } from '../engine/train/parallel/stepper'
import { datasetModel, openDatasetSource } from '../data/dataset-source'
import { Catalog } from '../data/catalog'
import { describeCounts, describeManifest, importIntoCatalog } from '../data/dataset-import'
import { evalHeadline, runFinetuneRequest } from '../data/finetune-request'
import { checkName, datasetDir, runDir } from '../workspace'
import type { JobContext } from './context'
import { runEmbed } from './embed-job'
import { prepareDataset } from '../data/prepare-dataset'
import { runEstimate } from './estimate-job'
import type { ImportJobArgs, JobRequest } from './protocol'
import { runClusterExport } from '../cluster/job'

export async function runJob(req: JobRequest, ctx: JobContext): Promise<unknown> {
  switch (req.kind) {
    case 'pretrain': {
      const a = req.args
      const presetModel = { ...PRESETS[a.preset], ...(a.cenNum ? { cenNum: a.cenNum } : {}) }
      const model = a.dataset ? datasetModel(a.workspace, a.dataset, presetModel) : presetModel
      const opened = a.dataset ? await openDatasetSource(a.workspace, a.dataset, model, 'train', a.preset) : null
      try {
        const source = opened ? opened.source : syntheticSource(a.syntheticClips ?? 256, a.seed, model)
        return await runPretrain(
          {
            ...PRETRAIN_DEFAULTS,
            runDir: runDir(a.workspace, a.run),
            preset: a.preset,
            model: { ...(a.cenNum ? { cenNum: a.cenNum } : {}), inputNorm: model.inputNorm },
            objective: a.objective,
            steps: a.steps,
            batchSize: a.batchSize,
            lr: a.lr,
            timeRoll: a.timeRoll,
            seed: a.seed,
            checkpointEvery: a.checkpointEvery,
            workers: await resolveWorkers(a.workers, a.batchSize),
            resume: a.resume,
            data: a.dataset ? { kind: 'dataset', name: a.dataset } : { kind: 'synthetic', clips: a.syntheticClips ?? 256 }
          },
          source,
          ctx
        )
      } finally {
        await opened?.close()
      }
    }
    case 'finetune': {
      const { summary, evalSplit } = await runFinetuneRequest(req.args, ctx)
      const e = summary.lastEval
      if (e) ctx.log(`${req.args.run} at step ${summary.finalStep}: ${evalSplit} ${evalHeadline(e)}`)
      return { finalStep: summary.finalStep, evalSplit, lastEval: e ?? null }
    }
    case 'import':
      return runImport(req.args, ctx)
    case 'prepare':
      return prepareDataset(req.args, ctx)
    case 'embed':
      return runEmbed(req.args, ctx)
    case 'estimate':
      return runEstimate(req.args, ctx)
    case 'cluster-export':
      return runClusterExport(req.args, ctx)
  }
}

/** A folder or manifest imported into a dataset, reporting progress; the end report counts clips by status. */
async function runImport(a: ImportJobArgs, ctx: JobContext): Promise<unknown> {
  const catalog = Catalog.open(datasetDir(a.workspace, checkName('dataset', a.dataset)))
  try {
    const { workspace: _workspace, dataset: _dataset, ...spec } = a
    const outcome = await importIntoCatalog(spec, catalog, ctx)
    if (outcome.manifest) ctx.log(describeManifest(a.from, outcome.manifest))
    ctx.log(`${a.dataset}: ${describeCounts(catalog)}`)
    return { ...outcome, counts: catalog.counts() }
  } finally {
    catalog.close()
  }
}
