/** Jobs: the job runner's records as the contract's Job. */
import { existsSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import type { Job } from '../../../shared/contract'
import type { JOBS_METHODS } from '../../../shared/methods'
import { etaSeconds } from '../../jobs/eta'
import type { JobRecord } from '../../jobs/runner'
import { runDir } from '../../workspace'
import { listDatasets } from '../../data/datasets'
import { checkPretrainRequest } from '../../workflows/pretrain'
import type { AreaServices, ServiceContext } from './types'

export function toJob(r: JobRecord): Job {
  const p = r.progress
  const eta = r.state === 'running' && p && r.progressBase ? etaSeconds(r.progressBase, { done: p.done, at: Date.now() }, p.total) : null
  return {
    id: r.id,
    kind: r.request.kind,
    run: 'run' in r.request.args ? r.request.args.run : null,
    dataset: 'dataset' in r.request.args ? (r.request.args.dataset ?? null) : null,
    state: r.state,
    created: r.created,
    started: r.started ?? null,
    ended: r.ended ?? null,
    resumes: r.resumes ?? null,
    resumedBy: r.resumedBy ?? null,
    progress: p ?? null,
    eta,
    error: r.error ?? null,
    log: r.log.slice(-10)
  }
}

export function jobsServices({ workspace, jobs }: ServiceContext): AreaServices<typeof JOBS_METHODS> {
  return {
    'jobs.list': async () => jobs.list().map(toJob),
    'jobs.start': async (req) => {
      if (req.kind === 'finetune') {
        const { from, fromCheckpoint } = req.args
        if (from !== undefined && !existsSync(join(runDir(workspace, from), 'config.json'))) throw new Error(`from: no run "${from}" in ${workspace}`)
        if (fromCheckpoint !== undefined && !existsSync(fromCheckpoint)) throw new Error(`fromCheckpoint: no file ${fromCheckpoint}`)
        const { dataset } = req.args
        if (dataset !== undefined && !(await listDatasets(workspace)).includes(dataset)) throw new Error(`dataset: no dataset "${dataset}" in ${workspace}`)
        return toJob(jobs.start({ kind: 'finetune', args: { ...req.args, workspace } }))
      }
      const { initFrom } = req.args
      if (initFrom !== undefined && isAbsolute(initFrom) && !existsSync(initFrom)) throw new Error(`initFrom: no file ${initFrom}`)
      if (initFrom !== undefined && !isAbsolute(initFrom) && !existsSync(join(runDir(workspace, initFrom), 'config.json'))) throw new Error(`initFrom: no run "${initFrom}" in ${workspace}`)
      await checkPretrainRequest(workspace, req.args)
      return toJob(jobs.start({ kind: 'pretrain', args: { ...req.args, workspace } }))
    },
    'jobs.cancel': async ({ id }) => toJob(jobs.cancel(id)),
    'jobs.resume': async ({ id }) => toJob(jobs.resume(id))
  }
}
