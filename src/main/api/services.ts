/** What the API methods do, against one workspace on disk. */
import { existsSync } from 'node:fs'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { z } from 'zod'
import type { Contract, Job, Method, Output } from '../../shared/contract'
import type { JobRecord, JobRunner } from '../jobs/runner'
import { runDir, runsDir } from '../workspace'

/** One implementation per method, receiving the input as its schema parsed it. */
export type Services = { [M in Method]: (input: z.output<Contract[M]['input']>) => Promise<Output<M>> }

export function toJob(r: JobRecord): Job {
  const p = r.progress
  const elapsed = r.started ? (Date.now() - Date.parse(r.started)) / 1000 : 0
  const eta = r.state === 'running' && p && p.done > 0 ? (elapsed / p.done) * (p.total - p.done) : null
  return {
    id: r.id,
    kind: r.request.kind,
    run: r.request.args.run,
    state: r.state,
    created: r.created,
    progress: p ?? null,
    eta,
    error: r.error ?? null,
    log: r.log.slice(-10)
  }
}

async function metricsLines(workspace: string, run: string): Promise<string[]> {
  const path = join(runDir(workspace, run), 'metrics.jsonl')
  if (!existsSync(path)) return []
  // a line still being written has no newline yet: leave it for the next poll
  const text = await readFile(path, 'utf8')
  const lines = text.split('\n')
  lines.pop()
  return lines.filter((l) => l.trim())
}

export function workspaceServices(workspace: string, version: string, jobs: JobRunner): Services {
  return {
    'app.info': async () => ({ version, workspace }),
    'runs.list': async () => {
      if (!existsSync(runsDir(workspace))) return []
      const names = (await readdir(runsDir(workspace), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name)
      const out: Output<'runs.list'> = []
      for (const name of names.sort()) {
        const configPath = join(runDir(workspace, name), 'config.json')
        if (!existsSync(configPath)) continue
        const c = JSON.parse(await readFile(configPath, 'utf8')) as {
          preset: string
          objective: string
          totalSteps: number
          created: string
          data: { describe: string }
          backend: { name: string }
        }
        const lines = await metricsLines(workspace, name)
        out.push({
          name,
          preset: c.preset,
          objective: c.objective,
          totalSteps: c.totalSteps,
          created: c.created,
          data: c.data.describe,
          backend: c.backend.name,
          last: lines.length ? JSON.parse(lines[lines.length - 1]) : null
        })
      }
      return out
    },
    'runs.metrics': async ({ run, since }) => {
      const lines = await metricsLines(workspace, run)
      return { rows: lines.slice(since).map((l) => JSON.parse(l)), next: lines.length }
    },
    'jobs.list': async () => jobs.list().map(toJob),
    'jobs.start': async ({ kind, args }) => toJob(jobs.start({ kind, args: { ...args, workspace } })),
    'jobs.cancel': async ({ id }) => toJob(jobs.cancel(id)),
    'jobs.resume': async ({ id }) => toJob(jobs.resume(id))
  }
}
