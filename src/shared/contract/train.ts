/** Train: the forms' estimated time per epoch, from seconds per step measured on this machine's backend. */
import { z } from 'zod'
import { ESTIMATE_TASKS } from '../estimate'
import type { TRAIN_METHODS } from '../methods'
import { DatasetName } from './datasets'
import { JobSchema } from './jobs'
import type { MethodSpec } from './spec'

const StepTimeInput = z.object({
  task: z.enum(ESTIMATE_TASKS),
  preset: z.enum(['tiny', 'small', 'base']),
  batchSize: z.number().int().min(2).max(4096)
})

export const EstimateInputSchema = StepTimeInput.extend({
  /** the dataset whose train clips make an epoch; absent: the synthetic task */
  dataset: DatasetName.optional(),
  syntheticClips: z.number().int().min(2).max(100_000).optional()
}).strict()

export const EstimateSchema = z.object({
  /** the backend an engine process uses here (null until one has measured, unless EQUIAV_BACKEND forces one) */
  backend: z.string().nullable(),
  /** the measured figure, or null when none is cached for this backend, task, preset and batch */
  secondsPerStep: z.number().nullable(),
  measured: z.string().nullable(),
  trainClips: z.number().int(),
  stepsPerEpoch: z.number().int(),
  secondsPerEpoch: z.number().nullable()
})
export type Estimate = z.infer<typeof EstimateSchema>

export const trainContract = {
  /** the cached seconds per step for a form's settings, times the steps of an epoch of its data */
  'train.estimate': { input: EstimateInputSchema, output: EstimateSchema },
  /** measure seconds per step (two real steps in an engine process, an `estimate` job) and cache the figure */
  'train.measure': { input: StepTimeInput.strict(), output: JobSchema }
} as const satisfies Record<(typeof TRAIN_METHODS)[number], MethodSpec>
