/** The jobs an engine process can run: each one a workflow (src/main/workflows/). */
import type { Reporter } from '../engine/report'
import { runEmbed } from '../workflows/embed'
import { runEstimate } from '../workflows/estimate'
import { evalHeadline, runFinetuneRequest } from '../workflows/finetune'
import { runImport } from '../workflows/import'
import { runPretrainRequest } from '../workflows/pretrain'
import { prepareDataset } from '../data/prepare-dataset'
import { FinetuneRequestSchema, PretrainRequestSchema } from '../../shared/requests'
import { runClusterExport } from '../cluster/job'
import type { JobRequest } from './protocol'

export async function runJob(req: JobRequest, ctx: Reporter): Promise<unknown> {
  switch (req.kind) {
    case 'pretrain': {
      const { workspace, ...request } = req.args
      return runPretrainRequest(workspace, PretrainRequestSchema.parse(request), ctx)
    }
    case 'finetune': {
      const { workspace, ...request } = req.args
      const { summary, evalSplit } = await runFinetuneRequest(workspace, FinetuneRequestSchema.parse(request), ctx)
      const e = summary.lastEval
      if (e) ctx.log(`${request.run} at step ${summary.finalStep}: ${evalSplit} ${evalHeadline(e)}`)
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
