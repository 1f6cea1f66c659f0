/**
 * The workbench API: every method with a schema for its input and output, written once and served by
 * both transports (Electron IPC and the local HTTP server). Runtime-neutral: imported by main and renderer.
 */
import { z } from 'zod'
import type { Method } from './methods'

export { METHODS, type Method } from './methods'

export const RunName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a run name: letters, digits, ".", "_" or "-"')

export const MetricsRowSchema = z.object({
  step: z.number(),
  epoch: z.number(),
  loss: z.number(),
  loss_inter: z.number(),
  loss_intra_a: z.number(),
  loss_intra_v: z.number(),
  lr: z.number(),
  grad_norm: z.number(),
  clips_per_s: z.number(),
  time: z.string()
})
export type MetricsRow = z.infer<typeof MetricsRowSchema>

export const RunSummarySchema = z.object({
  name: z.string(),
  preset: z.string(),
  objective: z.string(),
  totalSteps: z.number(),
  created: z.string(),
  data: z.string(),
  backend: z.string(),
  last: MetricsRowSchema.nullable()
})
export type RunSummary = z.infer<typeof RunSummarySchema>

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
    dataset: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a dataset name').optional(),
    syntheticClips: z.number().int().min(2).max(100_000).optional()
  })
  .strict()

export const JobSchema = z.object({
  id: z.string(),
  kind: z.literal('pretrain'),
  run: z.string(),
  state: z.enum(['queued', 'running', 'done', 'failed', 'cancelled']),
  created: z.string(),
  progress: z.object({ done: z.number(), total: z.number(), unit: z.string(), fields: z.record(z.string(), z.string()).optional() }).nullable(),
  /** seconds left at the current rate, while running */
  eta: z.number().nullable(),
  error: z.string().nullable(),
  log: z.array(z.string())
})
export type Job = z.infer<typeof JobSchema>
const JobId = z.object({ id: z.string().min(1).max(200) }).strict()

export const contract = {
  'app.info': {
    input: z.object({}).strict(),
    output: z.object({ version: z.string(), workspace: z.string() })
  },
  'runs.list': {
    input: z.object({}).strict(),
    output: z.array(RunSummarySchema)
  },
  'runs.metrics': {
    input: z.object({ run: RunName, since: z.number().int().min(0).default(0) }).strict(),
    /** rows after the first `since` rows, and the row count to ask from next time */
    output: z.object({ rows: z.array(MetricsRowSchema), next: z.number().int() })
  },
  'jobs.list': { input: z.object({}).strict(), output: z.array(JobSchema) },
  /** queue a pretraining job; it runs in its own engine process */
  'jobs.start': { input: z.object({ kind: z.literal('pretrain'), args: PretrainArgsSchema }).strict(), output: JobSchema },
  'jobs.cancel': { input: JobId, output: JobSchema },
  /** a new job continuing a stopped one from its last checkpoint */
  'jobs.resume': { input: JobId, output: JobSchema }
} as const satisfies Record<Method, { input: z.ZodType; output: z.ZodType }>

export type Contract = typeof contract
export type Input<M extends Method> = z.input<Contract[M]['input']>
export type Output<M extends Method> = z.output<Contract[M]['output']>

/** What every transport offers the renderer. */
export interface ApiClient {
  call<M extends Method>(method: M, input: Input<M>): Promise<Output<M>>
}

/** A clear, field-naming message for a schema failure. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`).join('; ')
}
