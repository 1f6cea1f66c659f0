/** Runs: each run folder's config and metrics, read through src/main/runs/. */
import type { Output } from '../../../shared/contract'
import type { RUNS_METHODS } from '../../../shared/methods'
import type { AnyRunConfig } from '../../runs/config'
import { listRuns, metricsLines } from '../../runs/list'
import { attachedLocation } from '../../cluster/attach'
import type { AreaServices, ServiceContext } from './types'

function objectiveOf(c: AnyRunConfig): string {
  return c.kind === 'finetune' ? `${c.linearProbe ? 'linear probe' : 'fine-tune'} ${c.modality}, ${c.loss}` : c.objective
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
