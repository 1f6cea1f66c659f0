/**
 * config.json of a run, the one schema every reader goes through. Older runs are migrated on reading:
 * a model without `inputNorm` used AudioSet / ImageNet statistics, and a pretraining run without
 * `timeRoll` rolled its audio. Keys this version does not know are kept.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { type ModelConfig, OFFICIAL_INPUT_NORM } from '../engine/config'
import type { FinetuneRunConfig } from '../engine/finetune/loop'
import type { RunConfig } from '../engine/train/pretrain'
import { LineageSchema } from '../../shared/contract'
import { FINETUNE_LOSSES, FINETUNE_MODALITIES, LR_SCHEDULES, OBJECTIVES, PRESET_NAMES } from '../../shared/requests'

const triple = z.tuple([z.number(), z.number(), z.number()])
const InputNormSchema = z.object({ fbank: z.object({ mean: z.number(), std: z.number() }), frame: z.object({ mean: triple, std: triple }), source: z.string() })

const ModelSchema = z.looseObject({
  embedDim: z.number().int(),
  depth: z.number().int(),
  numHeads: z.number().int(),
  mlpRatio: z.number(),
  audioLength: z.number().int(),
  numMelBins: z.number().int(),
  imgSize: z.number().int(),
  patchSize: z.number().int(),
  projHiddenDim: z.number().int(),
  interProjOutDim: z.number().int(),
  intraProjOutDim: z.number().int(),
  augEmbDim: z.number().int(),
  augSizeA: z.number().int(),
  augSizeV: z.number().int(),
  predictorHeads: z.number().int(),
  predictorHeadDim: z.number().int(),
  cenNum: z.number().int(),
  cenMean: z.boolean(),
  lnEps: z.number(),
  inputNorm: InputNormSchema.default(OFFICIAL_INPUT_NORM)
}) satisfies z.ZodType<ModelConfig>

const BackendSchema = z.looseObject({ name: z.string(), tfBackend: z.string(), reason: z.string(), simd: z.boolean().optional(), threads: z.number().optional() })
const DataSchema = z.discriminatedUnion('kind', [
  z.looseObject({ kind: z.literal('synthetic'), clips: z.number().int() }),
  z.looseObject({ kind: z.literal('dataset'), name: z.string() })
])
const described = { describe: z.string(), size: z.number().int() }

/** What every run records of its training. */
const trained = {
  run: z.string(),
  created: z.string(),
  model: ModelSchema,
  totalSteps: z.number().int(),
  stepsPerEpoch: z.number().int(),
  warmupSteps: z.number().int(),
  batchSize: z.number().int(),
  lr: z.number(),
  weightDecay: z.number(),
  seed: z.number().int(),
  checkpointEvery: z.number().int(),
  backend: BackendSchema
}

export const PretrainConfigSchema = z.looseObject({
  ...trained,
  kind: z.undefined().optional(),
  preset: z.enum(PRESET_NAMES),
  objective: z.enum(OBJECTIVES),
  clipNorm: z.number(),
  tau: z.number(),
  lossWeights: z.object({ inter: z.number(), intraA: z.number(), intraV: z.number() }),
  timeRoll: z.boolean().default(true),
  data: z.intersection(DataSchema, z.object(described)),
  init: z.object({ from: z.string(), layout: z.enum(['ours', 'official', 'mae']), modalities: z.array(z.enum(['a', 'v'])), tensors: z.number().int() }).optional()
}) satisfies z.ZodType<RunConfig>

export const FinetuneConfigSchema = z.looseObject({
  ...trained,
  kind: z.literal('finetune'),
  lineage: LineageSchema,
  preset: z.string(),
  modality: z.enum(FINETUNE_MODALITIES),
  linearProbe: z.boolean(),
  loss: z.enum(FINETUNE_LOSSES),
  mixup: z.number(),
  timeRoll: z.boolean().optional(),
  classes: z.array(z.string()),
  schedule: z.enum(LR_SCHEDULES),
  data: z.intersection(DataSchema, z.object({ ...described, evalSplit: z.string().nullable(), evalDescribe: z.string().nullable() }))
}) satisfies z.ZodType<FinetuneRunConfig>

export const AnyRunConfigSchema = z.union([FinetuneConfigSchema, PretrainConfigSchema])
export type AnyRunConfig = z.output<typeof AnyRunConfigSchema>

export const configPath = (runDir: string): string => join(runDir, 'config.json')

/** A run's config.json checked against `schema` (migrated); a missing or malformed file is named with its reason. */
export async function readConfig<S extends z.ZodType>(runDir: string, schema: S): Promise<z.output<S>> {
  const path = configPath(runDir)
  if (!existsSync(path)) throw new Error(`${runDir}: not a run folder (no config.json)`)
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`, { cause: err })
  }
  const parsed = schema.safeParse(raw)
  if (parsed.success) return parsed.data
  // of a union (pretraining or fine-tuning), the problems of the kind it comes closest to
  const issues = parsed.error.issues.flatMap((i) => (i.code === 'invalid_union' ? i.errors.reduce((a, b) => (a.length <= b.length ? a : b)) : [i]))
  throw new Error(`${path}: not a run config this version reads (${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`)
}

export const readPretrainConfig = (runDir: string): Promise<RunConfig> => readConfig(runDir, PretrainConfigSchema)

export async function readFinetuneConfig(runDir: string): Promise<FinetuneRunConfig> {
  const config = await readConfig(runDir, AnyRunConfigSchema)
  if (config.kind !== 'finetune') throw new Error(`${configPath(runDir)}: not a fine-tuning run (run equiav finetune first; pretraining runs are evaluated with eval retrieval / eval probe)`)
  return config
}
