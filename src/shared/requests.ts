/**
 * One request schema per training job kind: what the workbench sends and what `equiav pretrain` /
 * `equiav finetune` parse their flags into, so both run the same workflow (src/main/workflows/).
 * The names and defaults are written here once.
 */
import { z } from 'zod'
import { NAME_PATTERN } from './contract/spec'
import { RunName } from './contract/runs'

export const PRESET_NAMES = ['tiny', 'small', 'base'] as const
export type PresetName = (typeof PRESET_NAMES)[number]
export const OBJECTIVES = ['equiav', 'invariant', 'inter-only'] as const
export type Objective = (typeof OBJECTIVES)[number]
export const FINETUNE_MODALITIES = ['audio', 'visual', 'audio-visual'] as const
export type FinetuneModality = (typeof FINETUNE_MODALITIES)[number]
export const FINETUNE_LOSSES = ['bce', 'ce'] as const
export type FinetuneLoss = (typeof FINETUNE_LOSSES)[number]
export const LR_SCHEDULES = ['warmup-cosine', 'constant'] as const
export type LrSchedule = (typeof LR_SCHEDULES)[number]
/** the dataset's own statistics (`dataset norm-stats`), or AudioSet / ImageNet's */
export const INPUT_NORMS = ['dataset', 'official'] as const
export type InputNormChoice = (typeof INPUT_NORMS)[number]
export const INIT_MODALITIES = ['audio', 'visual'] as const

/** peak learning rate: 2e-4 is the one measured to learn on the demo with `tiny` (README); 1e-4 otherwise */
export const DEFAULT_LR: Record<PresetName, number> = { tiny: 2e-4, small: 1e-4, base: 1e-4 }
export const FINETUNE_LR = { fineTune: 1e-4, linearProbe: 1e-3 }
/** AdamW's decoupled weight decay in both trainings */
export const WEIGHT_DECAY = 1e-5
/** temperature of the inter- and intra-modal losses (official 0.07) */
export const DEFAULT_TAU = 0.07
/** newest checkpoints a run keeps on disk (0: all); each holds the weights and AdamW's moments */
export const KEEP_CHECKPOINTS = 3
/** clips of the synthetic task when a request names no dataset */
export const SYNTHETIC_CLIPS = 256

const oneOf = <T extends readonly [string, ...string[]]>(names: T) => z.enum(names, { error: `must be one of ${names.join(', ')}` })

const DatasetName = z.string().regex(NAME_PATTERN, 'a dataset name')
/** an absolute path (POSIX, or Windows with a drive letter or a share): the server's working directory means nothing to a client */
export const CheckpointPath = z
  .string()
  .max(4096)
  .regex(/^(\/|[A-Za-z]:[\\/]|\\\\)/, 'an absolute path to a .pth or .safetensors file')
  .regex(/\.(pth|safetensors)$/i, 'a .pth or .safetensors file')

/** What both trainings share: length, batch, schedule, seed, checkpoints, data. */
const training = {
  run: RunName,
  /** total optimisation steps (wins over epochs; 0 saves the initialisation); neither: one epoch */
  steps: z.number().int().min(0).max(1_000_000).optional(),
  epochs: z.number().int().min(1).max(10_000).optional(),
  batchSize: z.number().int().min(2).max(4096).default(16),
  /** absent: the default of the preset (pretraining) or of the kind of fine-tuning; on resume, the run's own (a value given changes it from there on) */
  lr: z.number().positive().max(1).optional(),
  /** absent: 10% of the steps (pretraining), one epoch and at most 10% (fine-tuning) */
  warmupSteps: z.number().int().min(0).optional(),
  /** roll the training audio circularly in time (the official noise=True) */
  timeRoll: z.boolean().default(true),
  seed: z.number().int().min(0).default(0),
  checkpointEvery: z.number().int().min(1).default(100),
  keepCheckpoints: z.number().int().min(0).default(KEEP_CHECKPOINTS),
  /** engine workers the batch is split over (absent: every core on wasm, 1 on tfjs-node; at most the batch) */
  workers: z.number().int().min(1).max(256).optional(),
  resume: z.boolean().default(false),
  /** a prepared dataset of the workspace; absent: the synthetic task */
  dataset: DatasetName.optional(),
  syntheticClips: z.number().int().min(2).max(100_000).optional()
}

/** a resumed run may name neither: its config.json recorded them */
const ENCODERS = {
  path: ['from'],
  message: 'name the encoders to start from: a run of the workspace (from) or a checkpoint file (fromCheckpoint), one of the two'
}
const IMG_SIZE = 'must be a multiple of 16 between 16 and 1024'
const oneLength = { path: ['steps'], message: 'give epochs or steps, not both' }

/** The pretraining request's fields, before the checks across fields (`cluster.export` takes most of them too). */
export const PretrainFieldsSchema = z
  .object({
    ...training,
    preset: oneOf(PRESET_NAMES).default('tiny'),
    objective: oneOf(OBJECTIVES).default('equiav'),
    /** S, the augmentations averaged into the centroid (default: the preset's 16) */
    cenNum: z.number().int().min(1).max(256).optional(),
    /** frame side in pixels (default: the preset's); prepare the dataset with the same */
    imgSize: z.number().int().min(16, IMG_SIZE).max(1024, IMG_SIZE).multipleOf(16, IMG_SIZE).optional(),
    /** global gradient-norm clip (official 0.01) */
    clipNorm: z.number().positive().default(0.01),
    tau: z.number().positive().max(10).default(DEFAULT_TAU),
    /** absent: the dataset's own statistics when `dataset norm-stats` stored them, else AudioSet / ImageNet */
    inputNorm: oneOf(INPUT_NORMS).optional(),
    /** encoders to start from: a run of the workspace or an absolute .pth / .safetensors path (an EquiAV state dict or a bare ViT such as MAE's) */
    initFrom: z.union([RunName, CheckpointPath]).optional(),
    initModalities: z.array(oneOf(INIT_MODALITIES)).min(1).default(['audio', 'visual']),
    /** train on the clips cached so far when `dataset prepare` has not finished */
    allowPartial: z.boolean().optional()
  })
  .strict()

export const PretrainRequestSchema = PretrainFieldsSchema.refine((r) => r.epochs === undefined || r.steps === undefined, oneLength)
  .transform((r) => ({ ...r, lr: r.lr ?? (r.resume ? undefined : DEFAULT_LR[r.preset]) }))
export type PretrainRequestInput = z.input<typeof PretrainRequestSchema>
export type PretrainRequest = z.output<typeof PretrainRequestSchema>

/**
 * A fine-tuning run: pretrained encoders (a run of the workspace, or an official checkpoint file of
 * `preset`'s size) under a new classification head, trained on a dataset's train split (or the synthetic
 * task) and evaluated every epoch. Resuming without naming the encoders uses the run's recorded lineage.
 */
export const FinetuneRequestSchema = z
  .object({
    ...training,
    /** the pretraining (or fine-tuning) run whose newest checkpoint gives the encoders … */
    from: RunName.optional(),
    /** … or an official EquiAV state dict (.pth / .safetensors) on the machine that runs the job */
    fromCheckpoint: CheckpointPath.optional(),
    /** the size of the model in `fromCheckpoint` */
    preset: oneOf(PRESET_NAMES).optional(),
    modality: oneOf(FINETUNE_MODALITIES).default('audio-visual'),
    linearProbe: z.boolean().default(false),
    loss: oneOf(FINETUNE_LOSSES).default('bce'),
    /** probability that a training sample is mixed (official 0.5) */
    mixup: z.number().min(0, 'a probability in [0, 1]').max(1, 'a probability in [0, 1]').default(0),
    schedule: oneOf(LR_SCHEDULES).default('warmup-cosine')
  })
  .strict()
  .refine((r) => (r.from === undefined) !== (r.fromCheckpoint === undefined) || (r.resume && r.from === undefined), ENCODERS)
  .refine((r) => r.preset === undefined || r.fromCheckpoint !== undefined, { path: ['preset'], message: 'a preset goes with fromCheckpoint; a run knows its own size' })
  .refine((r) => r.run !== r.from, { path: ['run'], message: 'the fine-tuning run needs a name of its own, not the name of the run it starts from' })
  .refine((r) => r.epochs === undefined || r.steps === undefined, oneLength)
  .transform((r) => ({ ...r, lr: r.lr ?? (r.resume ? undefined : r.linearProbe ? FINETUNE_LR.linearProbe : FINETUNE_LR.fineTune) }))
export type FinetuneRequestInput = z.input<typeof FinetuneRequestSchema>
export type FinetuneRequest = z.output<typeof FinetuneRequestSchema>
