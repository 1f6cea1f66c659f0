/** Runs: each run folder's config and metrics, read through src/main/runs/. */
import type { Output, RunSettings } from '../../../shared/contract'
import type { RUNS_METHODS } from '../../../shared/methods'
import type { AnyRunConfig } from '../../runs/config'
import { listRuns, metricsLines } from '../../runs/list'
import { attachedLocation } from '../../cluster/attach'
import type { AreaServices, ServiceContext } from './types'

function objectiveOf(c: AnyRunConfig): string {
  return c.kind === 'finetune' ? `${c.linearProbe ? 'linear probe' : 'fine-tune'} ${c.modality}, ${c.loss}` : c.objective
}

/** The config.json settings the runs table offers as columns. */
function settingsOf(c: AnyRunConfig): RunSettings {
  const pretrain = c.kind !== 'finetune'
  return {
    lr: c.lr,
    batchSize: c.batchSize,
    S: pretrain ? c.model.cenNum : null,
    timeRoll: c.timeRoll ?? null,
    seed: c.seed,
    dataset: c.data.kind === 'dataset' ? c.data.name : 'synthetic',
    epochs: Math.round((100 * c.totalSteps) / Math.max(1, c.stepsPerEpoch)) / 100,
    stepsPerEpoch: c.stepsPerEpoch,
    lossWeights: pretrain ? c.lossWeights : null,
    warmupSteps: c.warmupSteps,
    tau: pretrain ? c.tau : null,
    workers: typeof c.workers === 'number' ? c.workers : 1,
    init: pretrain ? (c.init?.from ?? null) : c.lineage.from
  }
}

export function runsServices({ workspace, version }: ServiceContext): AreaServices<typeof RUNS_METHODS> {
  return {
    'app.info': async () => ({ version, workspace }),
    'runs.list': async () => {
      const out: Output<'runs.list'> = []
      for (const { name, config: c } of await listRuns(workspace)) {
        const lines = await metricsLines(workspace, name)
        out.push({
          name,
          kind: c.kind === 'finetune' ? 'finetune' : 'pretrain',
          preset: c.preset,
          objective: objectiveOf(c),
          totalSteps: c.totalSteps,
          created: c.created,
          data: c.data.describe,
          backend: c.backend.name,
          location: attachedLocation(workspace, name),
          settings: settingsOf(c),
          last: lines.length ? JSON.parse(lines[lines.length - 1]) : null
        })
      }
      return out
    },
    'runs.metrics': async ({ run, since }) => {
      const lines = await metricsLines(workspace, run)
      return { rows: lines.slice(since).map((l) => JSON.parse(l)), next: lines.length }
    }
  }
}
