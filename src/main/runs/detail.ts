/** A run's page: its schema-checked config, lineage, the runs fine-tuned from it, its checkpoints and its evaluations. */
import type { RunDetail } from '../../shared/contract'
import { runDir } from '../workspace'
import { checkpointSavedAt, listCheckpoints } from './checkpoints'
import { AnyRunConfigSchema, readConfig } from './config'
import { listEvaluations } from './evaluations'
import { listRuns } from './list'

export async function runDetail(workspace: string, run: string): Promise<RunDetail> {
  const dir = runDir(workspace, run)
  const config = await readConfig(dir, AnyRunConfigSchema)
  const derived = (await listRuns(workspace)).filter((r) => r.config.kind === 'finetune' && r.config.lineage.kind === 'run' && r.config.lineage.from === run).map((r) => r.name)
  const checkpoints = await Promise.all((await listCheckpoints(dir)).map(async (c) => ({ step: c.step, savedAt: await checkpointSavedAt(c.dir) })))
  return {
    run,
    config: config as Record<string, unknown>,
    lineage: config.kind === 'finetune' ? config.lineage : null,
    derived,
    checkpoints,
    evaluations: await listEvaluations(dir)
  }
}
