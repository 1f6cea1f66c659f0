/** Train: estimated time per epoch from the workspace's measured step times; measuring runs as a job. */
import type { TRAIN_METHODS } from '../../../shared/methods'
import { stepTimeKey } from '../../../shared/estimate'
import { epochSeconds, expectedBackend, readStepTimes } from '../../data/step-times'
import { stepsPerEpoch } from '../../engine/train/data-source'
import { toJob } from './jobs'
import type { AreaServices, ServiceContext } from './types'
import { SYNTHETIC_CLIPS } from '../../../shared/requests'

export function trainServices({ workspace, jobs, catalogs }: ServiceContext): AreaServices<typeof TRAIN_METHODS> {
  return {
    'train.estimate': async ({ task, preset, batchSize, dataset, syntheticClips }) => {
      const trainClips = dataset
        ? await catalogs.count(dataset, { split: 'train', status: 'ok', excluded: false })
        : (syntheticClips ?? SYNTHETIC_CLIPS)
      const times = readStepTimes(workspace)
      const backend = expectedBackend(times)
      const entry = backend ? times.entries[stepTimeKey({ backend, task, preset, batchSize })] : undefined
      return {
        backend,
        secondsPerStep: entry?.secondsPerStep ?? null,
        measured: entry?.measured ?? null,
        trainClips,
        stepsPerEpoch: stepsPerEpoch(trainClips, batchSize),
        secondsPerEpoch: entry ? epochSeconds(entry.secondsPerStep, trainClips, batchSize) : null
      }
    },
    'train.measure': async (args) => toJob(jobs.start({ kind: 'estimate', args: { ...args, workspace } }))
  }
}
