/** The jobs an engine process can run. */
import { PRESETS } from '../engine/config'
import { PRETRAIN_DEFAULTS, runPretrain } from '../engine/train/pretrain'
import { syntheticSource } from '../engine/train/synthetic-source'
import { openDatasetSource } from '../data/dataset-source'
import { runDir } from '../workspace'
import type { JobContext } from './context'
import type { JobRequest } from './protocol'

export async function runJob(req: JobRequest, ctx: JobContext): Promise<unknown> {
  switch (req.kind) {
    case 'pretrain': {
      const a = req.args
      const model = { ...PRESETS[a.preset], ...(a.cenNum ? { cenNum: a.cenNum } : {}) }
      const opened = a.dataset ? await openDatasetSource(a.workspace, a.dataset, model, 'train', a.preset) : null
      try {
        const source = opened ? opened.source : syntheticSource(a.syntheticClips ?? 256, a.seed, model)
        return await runPretrain(
          {
            ...PRETRAIN_DEFAULTS,
            runDir: runDir(a.workspace, a.run),
            preset: a.preset,
            model: a.cenNum ? { cenNum: a.cenNum } : undefined,
            objective: a.objective,
            steps: a.steps,
            batchSize: a.batchSize,
            lr: a.lr,
            seed: a.seed,
            checkpointEvery: a.checkpointEvery,
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
  }
}
