/** Jobs: long work (pretraining, imports) queued and run in engine processes. */
import { z } from 'zod'
import type { JOBS_METHODS } from '../methods'
import { RunName } from './runs'
import { type MethodSpec, NAME_PATTERN } from './spec'

export const PretrainArgsSchema = z
  .object({
    run: RunName,
    preset: z.enum(['tiny', 'small', 'base']).default('tiny'),
    objective: z.enum(['equiav', 'invariant', 'inter-only']).default('equiav'),
    steps: z.number().int().min(1).max(1_000_000),
    batchSize: z.number().int().min(2).max(4096).default(16),
    lr: z.number().positive().max(1).default(5e-4),
    seed: z.number().int().min(0).default(0),
    cenNum: z.number().int().min(1).max(256).optional(),
    checkpointEvery: z.number().int().min(1).default(100),
    resume: z.boolean().default(false),
    dataset: z.string().regex(NAME_PATTERN, 'a dataset name').optional(),
    syntheticClips: z.number().int().min(2).max(100_000).optional()
  })
  .strict()

export const JobProgressSchema = z.object({ done: z.number(), total: z.number(), unit: z.string(), fields: z.record(z.string(), z.string()).optional() })

export const JobSchema = z.object({
  id: z.string(),
  kind: z.enum(['pretrain', 'import', 'embed']),
  /** the run a pretraining job writes, or whose embeddings an embed job computes */
  run: z.string().nullable(),
  /** the dataset an import fills */
  dataset: z.string().nullable(),
  state: z.enum(['queued', 'running', 'done', 'failed', 'cancelled']),
  created: z.string(),
  progress: JobProgressSchema.nullable(),
  /** seconds left at the current rate, while running */
  eta: z.number().nullable(),
  error: z.string().nullable(),
  log: z.array(z.string())
})
export type Job = z.infer<typeof JobSchema>
const JobId = z.object({ id: z.string().min(1).max(200) }).strict()

export const jobsContract = {
  'jobs.list': { input: z.object({}).strict(), output: z.array(JobSchema) },
  /** queue a pretraining job; it runs in its own engine process */
  'jobs.start': { input: z.object({ kind: z.literal('pretrain'), args: PretrainArgsSchema }).strict(), output: JobSchema },
  'jobs.cancel': { input: JobId, output: JobSchema },
  /** a new job continuing a stopped one from its last checkpoint */
  'jobs.resume': { input: JobId, output: JobSchema }
} as const satisfies Record<(typeof JOBS_METHODS)[number], MethodSpec>
