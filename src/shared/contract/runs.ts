/** Runs: the workspace's pretraining and fine-tuning runs and their metrics logs. */
import { z } from 'zod'
import type { RUNS_METHODS } from '../methods'
import { type MethodSpec, NAME_PATTERN } from './spec'

export const RunName = z.string().regex(NAME_PATTERN, 'a run name: letters, digits, ".", "_" or "-"')

/** One row of a run's metrics.jsonl: the loss terms of a pretraining run, or a fine-tuning run's loss and evaluations. */
export const MetricsRowSchema = z.object({
  step: z.number(),
  epoch: z.number(),
  loss: z.number(),
  loss_inter: z.number().optional(),
  loss_intra_a: z.number().optional(),
  loss_intra_v: z.number().optional(),
  lr: z.number(),
  grad_norm: z.number().optional(),
  /** mean cosine between different clips' inter-modal embeddings (1 = collapsed); absent in older runs */
  spread_a: z.number().optional(),
  spread_v: z.number().optional(),
  clips_per_s: z.number(),
  time: z.string(),
  /** fine-tuning: the split evaluated at the end of an epoch, and its mAP (BCE) or top-1/top-5 (CE) */
  eval_split: z.string().optional(),
  eval_mAP: z.number().optional(),
  eval_top1: z.number().optional(),
  eval_top5: z.number().optional()
})
export type MetricsRow = z.infer<typeof MetricsRowSchema>

/** The settings of a run's config.json the runs table can show as columns (null: not a setting of this kind of run). */
export const RunSettingsSchema = z.object({
  lr: z.number(),
  batchSize: z.number().int(),
  /** S, the augmentations the centroid averages over (model.cenNum) */
  S: z.number().int().nullable(),
  timeRoll: z.boolean().nullable(),
  seed: z.number().int(),
  /** the dataset's name, or "synthetic" */
  dataset: z.string(),
  epochs: z.number(),
  stepsPerEpoch: z.number().int(),
  /** the pretraining loss's weights of the inter- and intra-modal terms (null for fine-tuning) */
  lossWeights: z.object({ inter: z.number(), intraA: z.number(), intraV: z.number() }).nullable(),
  warmupSteps: z.number().int(),
  tau: z.number().nullable(),
  workers: z.number().int(),
  /** the encoders it started from (pretraining `init.from`, fine-tuning `lineage.from`) */
  init: z.string().nullable()
})
export type RunSettings = z.infer<typeof RunSettingsSchema>

export const RunSummarySchema = z.object({
  name: z.string(),
  kind: z.enum(['pretrain', 'finetune']),
  preset: z.string(),
  /** the pretraining objective, or what a fine-tuning run trains ("fine-tune audio-visual, bce") */
  objective: z.string(),
  totalSteps: z.number(),
  created: z.string(),
  data: z.string(),
  backend: z.string(),
  /** where an attached run trains (`equiav cluster attach`: a folder on a shared file system); null for a folder of the workspace */
  location: z.string().nullable(),
  settings: RunSettingsSchema,
  last: MetricsRowSchema.nullable()
})
export type RunSummary = z.infer<typeof RunSummarySchema>

export const runsContract = {
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
  }
} as const satisfies Record<(typeof RUNS_METHODS)[number], MethodSpec>
