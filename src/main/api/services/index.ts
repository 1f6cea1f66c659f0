/** What the API methods do, against one workspace on disk: each area's services, merged (one line per area). */
import { DatasetCatalogs } from '../../data/datasets'
import type { JobRunner } from '../../jobs/runner'
import { ClipPlayback } from '../playback'
import { analysisServices } from './analysis'
import { datasetsServices } from './datasets'
import { jobsServices } from './jobs'
import { runsServices } from './runs'
import { trainServices } from './train'
import { clusterServices } from './cluster'
import type { ServiceContext, Services } from './types'

export type { Services, ServiceContext } from './types'
export { toJob } from './jobs'

export function workspaceServices(workspace: string, version: string, jobs: JobRunner, catalogs = new DatasetCatalogs(workspace), playback = new ClipPlayback(workspace)): Services {
  const ctx: ServiceContext = { workspace, version, jobs, catalogs, playback }
  return {
    ...runsServices(ctx),
    ...jobsServices(ctx),
    ...datasetsServices(ctx),
    ...analysisServices(ctx),
    ...trainServices(ctx),
    ...clusterServices(ctx)
  }
}
