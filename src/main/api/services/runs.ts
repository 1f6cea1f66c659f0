/** Runs: config.json and metrics.jsonl of each run folder. */
import { existsSync } from 'node:fs'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Output } from '../../../shared/contract'
import type { RUNS_METHODS } from '../../../shared/methods'
import { runDir, runsDir } from '../../workspace'
import { attachedLocation } from '../../cluster/attach'
import type { AreaServices, ServiceContext } from './types'

export async function metricsLines(workspace: string, run: string): Promise<string[]> {
  const path = join(runDir(workspace, run), 'metrics.jsonl')
  if (!existsSync(path)) return []
  // a line still being written has no newline yet: leave it for the next poll
  const text = await readFile(path, 'utf8')
  const lines = text.split('\n')
  lines.pop()
  return lines.filter((l) => l.trim())
}

/** What the runs table reads of a run's config.json (a pretraining run's has no kind; a fine-tuning run's says so). */
interface StoredRunConfig {
  kind?: 'finetune'
  preset: string
  objective?: string
  modality?: string
  linearProbe?: boolean
  loss?: string
  totalSteps: number
  created: string
  data: { describe: string }
  backend: { name: string }
}

function objectiveOf(c: Pick<StoredRunConfig, 'kind' | 'objective' | 'modality' | 'linearProbe' | 'loss'>): string {
  if (c.kind === 'finetune') return `${c.linearProbe ? 'linear probe' : 'fine-tune'} ${c.modality ?? ''}, ${c.loss ?? ''}`
  return c.objective ?? ''
}

export function runsServices({ workspace, version }: ServiceContext): AreaServices<typeof RUNS_METHODS> {
  return {
    'app.info': async () => ({ version, workspace }),
    'runs.list': async () => {
      if (!existsSync(runsDir(workspace))) return []
      const names = (await readdir(runsDir(workspace), { withFileTypes: true })).filter((d) => d.isDirectory() || d.isSymbolicLink()).map((d) => d.name)
      const out: Output<'runs.list'> = []
      for (const name of names.sort()) {
        const configPath = join(runDir(workspace, name), 'config.json')
        if (!existsSync(configPath)) continue
        const c = JSON.parse(await readFile(configPath, 'utf8')) as StoredRunConfig
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
