/** Jobs: long work (pretraining, imports) queued and run in engine processes. */
import { z } from 'zod'
import type { JOBS_METHODS } from '../methods'
import { RunName } from './runs'
import { type MethodSpec, NAME_PATTERN } from './spec'

const DatasetRef = z.string().regex(NAME_PATTERN, 'a dataset name')
/** an absolute path (POSIX, or Windows with a drive letter or a share): the server's working directory means nothing to a client */
const CheckpointPath = z
  .string()
  .max(4096)
  .regex(/^(\/|[A-Za-z]:[\\/]|\\\\)/, 'an absolute path to a .pth or .safetensors file')
  .regex(/\.(pth|safetensors)$/i, 'a .pth or .safetensors file')

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
    /** roll the original audio circularly in time (official noise=True) */
    timeRoll: z.boolean().default(true),
    checkpointEvery: z.number().int().min(1).default(100),
    /** engine workers the batch is split over (default: every core on wasm, 1 on tfjs-node) */
    workers: z.number().int().min(1).max(256).optional(),
    resume: z.boolean().default(false),
    dataset: DatasetRef.optional(),
    syntheticClips: z.number().int().min(2).max(100_000).optional()
  })
  .strict()

/**
 * A fine-tuning job: a pretraining run's encoders under a new classification head, trained on a dataset's
 * train split (or the synthetic task) and evaluated every epoch, as `equiav finetune` does.
 */
export const FinetuneArgsSchema = z
  .object({
    run: RunName,
    /** the pretraining (or fine-tuning) run whose newest checkpoint gives the encoders … */
    from: RunName.optional(),
    /** … or an official EquiAV state dict (.pth / .safetensors) on the machine that serves the workbench */
    fromCheckpoint: CheckpointPath.optional(),
    /** the size of the model in `fromCheckpoint` (default base, the paper's) */
    preset: z.enum(['tiny', 'small', 'base']).optional(),
    dataset: DatasetRef.optional(),
    syntheticClips: z.number().int().min(8).max(100_000).optional(),
    modality: z.enum(['audio', 'visual', 'audio-visual']).default('audio-visual'),
    linearProbe: z.boolean().default(false),
    loss: z.enum(['bce', 'ce']).default('bce'),
    mixup: z.number().min(0, 'a probability in [0, 1]').max(1, 'a probability in [0, 1]').default(0),
    timeRoll: z.boolean().default(true),
    epochs: z.number().int().min(1).max(10_000).optional(),
    steps: z.number().int().min(1).max(1_000_000).optional(),
    lr: z.number().positive().max(1).optional(),
    batchSize: z.number().int().min(2).max(4096).default(16),
    seed: z.number().int().min(0).default(0),
    checkpointEvery: z.number().int().min(1).default(100),
    /** engine workers the batch is split over (default: every core on wasm, 1 on tfjs-node) */
    workers: z.number().int().min(1).max(256).optional(),
    resume: z.boolean().default(false)
  })
  .strict()
  .refine((a) => (a.from === undefined) !== (a.fromCheckpoint === undefined), {
    path: ['from'],
    message: 'name the encoders to start from: a run of the workspace (from) or a checkpoint file (fromCheckpoint), one of the two'
  })
  .refine((a) => a.preset === undefined || a.fromCheckpoint !== undefined, { path: ['preset'], message: 'a preset goes with fromCheckpoint; a run knows its own size' })
  .refine((a) => a.run !== a.from, { path: ['run'], message: 'the fine-tuning run needs a name of its own, not the name of the run it starts from' })
  .refine((a) => a.epochs === undefined || a.steps === undefined, { path: ['steps'], message: 'give epochs or steps, not both' })

export const JobProgressSchema = z.object({ done: z.number(), total: z.number(), unit: z.string(), fields: z.record(z.string(), z.string()).optional() })

export const JobSchema = z.object({
  id: z.string(),
  kind: z.enum(['pretrain', 'finetune', 'import', 'prepare', 'embed', 'estimate', 'cluster-export']),
  /** the run a training job writes, or whose embeddings an embed job computes */
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
  /** queue a pretraining or fine-tuning job; it runs in its own engine process */
  'jobs.start': {
    input: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('pretrain'), args: PretrainArgsSchema }).strict(),
      z.object({ kind: z.literal('finetune'), args: FinetuneArgsSchema }).strict()
    ]),
    output: JobSchema
  },
  'jobs.cancel': { input: JobId, output: JobSchema },
  /** a new job continuing a stopped one from its last checkpoint */
  'jobs.resume': { input: JobId, output: JobSchema }
} as const satisfies Record<(typeof JOBS_METHODS)[number], MethodSpec>
