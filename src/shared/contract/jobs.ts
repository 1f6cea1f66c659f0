/** Jobs: long work (pretraining, imports) queued and run in engine processes; training requests are src/shared/requests.ts. */
import { z } from 'zod'
import type { JOBS_METHODS } from '../methods'
import { FinetuneRequestSchema, PretrainRequestSchema } from '../requests'
import type { MethodSpec } from './spec'

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
  /** when it last started running and when it ended (ISO times) */
  started: z.string().nullable(),
  ended: z.string().nullable(),
  /** the stopped job this one continues, and the job that continues this one (a job is resumed once) */
  resumes: z.string().nullable(),
  resumedBy: z.string().nullable(),
  progress: JobProgressSchema.nullable(),
  /** seconds left at the rate of the work done since this job started (not counting a resumed run's earlier steps), while running */
  eta: z.number().nullable(),
  error: z.string().nullable(),
  log: z.array(z.string())
})
export type Job = z.infer<typeof JobSchema>
const JobId = z.object({ id: z.string().min(1).max(200) }).strict()

export const jobsContract = {
  'jobs.list': { input: z.object({}).strict(), output: z.array(JobSchema) },
  /** queue a pretraining or fine-tuning job; it runs in its own engine process, the workflow the CLI runs */
  'jobs.start': {
    input: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('pretrain'), args: PretrainRequestSchema }).strict(),
      z.object({ kind: z.literal('finetune'), args: FinetuneRequestSchema }).strict()
    ]),
    output: JobSchema
  },
  'jobs.cancel': { input: JobId, output: JobSchema },
  /** a new job continuing a stopped one from its last checkpoint; refused for a job already resumed, or while another job trains its run */
  'jobs.resume': { input: JobId, output: JobSchema }
} as const satisfies Record<(typeof JOBS_METHODS)[number], MethodSpec>
