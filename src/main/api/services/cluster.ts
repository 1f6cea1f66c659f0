/** Cluster: export a run for PyTorch DDP (as a job), attach a cluster run folder. */
import type { CLUSTER_METHODS } from '../../../shared/methods'
import { attachRun } from '../../cluster/attach'
import { toJob } from './jobs'
import type { AreaServices, ServiceContext } from './types'

export function clusterServices({ workspace, jobs }: ServiceContext): AreaServices<typeof CLUSTER_METHODS> {
  return {
    'cluster.export': async (args) => toJob(jobs.start({ kind: 'cluster-export', args: { ...args, workspace } })),
    'cluster.attach': async ({ dir, name }) => attachRun(workspace, dir, name)
  }
}
