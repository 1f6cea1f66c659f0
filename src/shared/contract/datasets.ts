/** Datasets: the workspace's catalogs, their clips, edits, imports and augmentation previews. */
import { z } from 'zod'
import type { DATASETS_METHODS } from '../methods'
import { JobSchema } from './jobs'
import { PRESET_NAMES } from '../requests'
import { type MethodSpec, NAME_PATTERN } from './spec'

export const DatasetName = z.string().regex(NAME_PATTERN, 'a dataset name: letters, digits, ".", "_" or "-"')
const ClipId = z.string().min(1).max(4096)
export const SplitSchema = z.enum(['train', 'val', 'test'])
const ClipEditFields = {
  labels: z.array(z.number().int().min(0)).min(1).optional(),
  primary: z.number().int().min(0).optional(),
  split: SplitSchema.optional(),
  excluded: z.boolean().optional()
}
/** ok; quarantined (unusable, with a reason); missing (listed by a manifest, media not downloaded) */
export const ClipStatusSchema = z.enum(['ok', 'quarantined', 'missing'])
const ReasonSchema = z.enum(['not-media', 'no-audio', 'no-video', 'corrupt', 'too-short', 'unreadable', 'directory', 'duplicate'])

export const DatasetSummarySchema = z.object({
  name: z.string(),
  total: z.number().int(),
  ok: z.number().int(),
  quarantined: z.number().int(),
  missing: z.number().int(),
  classes: z.number().int(),
  /** the presets it has a preprocessing cache for (begun or finished): what a training request may name it with */
  prepared: z.array(z.enum(PRESET_NAMES))
})
export type DatasetSummary = z.infer<typeof DatasetSummarySchema>

/** One row of the clip table (everything but the file path, which never leaves the main process). */
export const ClipRowSchema = z.object({
  id: z.string(),
  labels: z.array(z.number().int()),
  split: SplitSchema.nullable(),
  status: ClipStatusSchema,
  reason: ReasonSchema.nullable(),
  detail: z.string().nullable(),
  duration: z.number().nullable(),
  audio: z.string().nullable(),
  video: z.string().nullable(),
  excluded: z.boolean(),
  /** the recording the clip was cut from (import --group-by), null when not grouped */
  group: z.string().nullable()
})
export type ClipRow = z.infer<typeof ClipRowSchema>

export const ClipFilterSchema = z
  .object({
    /** a case-insensitive substring of the clip id or of one of its labels' class names */
    search: z.string().min(1).max(200).optional(),
    label: z.number().int().min(0).optional(),
    split: SplitSchema.optional(),
    status: ClipStatusSchema.optional(),
    excluded: z.boolean().optional(),
    minDuration: z.number().min(0).optional(),
    maxDuration: z.number().min(0).optional()
  })
  .strict()
export type ClipFilter = z.infer<typeof ClipFilterSchema>

/** The columns the clip list sorts by (import order breaks ties; `label` is the primary label's class index) */
export const CLIP_SORT_COLUMNS = ['import', 'id', 'label', 'split', 'status', 'duration'] as const
export const ClipSortSchema = z.object({ by: z.enum(CLIP_SORT_COLUMNS), desc: z.boolean().default(false) }).strict()
export type ClipSort = z.infer<typeof ClipSortSchema>
const FilterAndSort = { filter: ClipFilterSchema.default({}), sort: ClipSortSchema.default({ by: 'import', desc: false }) }

export const DatasetInfoSchema = z.object({
  name: z.string(),
  source: z.string().nullable(),
  classes: z.array(z.string()),
  counts: z.object({
    total: z.number().int(),
    ok: z.number().int(),
    quarantined: z.number().int(),
    missing: z.number().int(),
    excluded: z.number().int(),
    byReason: z.record(z.string(), z.number().int()),
    bySplit: z.record(z.string(), z.number().int())
  }),
  /** the quarantine report: every unusable file with its reason (the first 1,000) */
  quarantined: z.array(z.object({ id: z.string(), reason: ReasonSchema.nullable(), detail: z.string().nullable() }))
})
export type DatasetInfo = z.infer<typeof DatasetInfoSchema>

/**
 * How the inspector's player gets a clip: the file as it is, or (when Chromium cannot play its container or
 * codecs) an H.264/AAC MP4 transcode, made once and cached; `original` says what the file holds.
 */
export const PlaybackSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('original') }),
  z.object({ state: z.literal('queued'), original: z.string() }),
  z.object({ state: z.literal('transcoding'), original: z.string(), percent: z.number().min(0).max(100) }),
  z.object({ state: z.literal('ready'), original: z.string() }),
  z.object({ state: z.literal('failed'), original: z.string(), reason: z.string() })
])
export type Playback = z.infer<typeof PlaybackSchema>

/** What a prune removed from one of a dataset's cache folders (playback/ or thumbs/), and what it could not. */
export const CachePruneSchema = z.object({
  folder: z.enum(['playback', 'thumbs']),
  files: z.number().int().min(0),
  bytes: z.number().int().min(0),
  failed: z.array(z.object({ file: z.string(), reason: z.string() }))
})
export type CachePrune = z.infer<typeof CachePruneSchema>

/** One sampled augmentation: its official parameter vector, each entry named, and the augmented image. */
export const AugmentationSchema = z.object({
  names: z.array(z.string()),
  vector: z.array(z.number()),
  /** PNG as a data: URL */
  image: z.string()
})
export type Augmentation = z.infer<typeof AugmentationSchema>

const Clip = z.object({ dataset: DatasetName, clip: ClipId }).strict()
/** a path on the machine running the workbench (checked there: absolute, existing) */
const PathField = (what: string) => z.string().min(1, what).max(4096)

/** What an import reads: a folder of media, or an AudioSet CSV / VGGSound CSV / CAV-MAE JSON manifest. */
export const IMPORT_FORMATS = ['folder', 'audioset-csv', 'vggsound-csv', 'cavmae-json'] as const

export const ImportArgsSchema = z
  .object({
    dataset: DatasetName,
    format: z.enum(IMPORT_FORMATS).default('folder'),
    /** the folder, or the manifest file */
    from: PathField('the folder or manifest file to import'),
    /** class_labels_indices.csv (index,mid,display_name), for AudioSet CSVs and CAV-MAE datafiles */
    labels: PathField('class_labels_indices.csv').optional(),
    /** the split of an AudioSet CSV or datafile (default: from its file name) */
    split: SplitSchema.optional(),
    /** the folder holding downloaded media of a manifest, found by file name */
    mediaRoot: PathField('the media folder').optional(),
    /** false: catalogue found media without opening it (fast; prepare reports bad files) */
    probe: z.boolean().default(true),
    testFraction: z.number().min(0).max(0.9).optional(),
    seed: z.number().int().min(0).optional(),
    /** folder: a regular expression whose first capture group of a file name names the recording it was cut from */
    groupBy: z.string().min(1).max(1000).optional()
  })
  .strict()
  .refine((a) => a.labels !== undefined || (a.format !== 'audioset-csv' && a.format !== 'cavmae-json'), {
    path: ['labels'],
    message: 'an AudioSet CSV or CAV-MAE datafile needs its class_labels_indices.csv'
  })
  .refine((a) => a.format !== 'folder' || (a.labels === undefined && a.mediaRoot === undefined && a.split === undefined), {
    path: ['format'],
    message: 'labels, split and mediaRoot belong to a manifest import, not a folder'
  })
  .refine((a) => a.format === 'folder' || a.groupBy === undefined, {
    path: ['groupBy'],
    message: 'groupBy applies to a folder import; a manifest keeps the splits it gives'
  })

export const datasetsContract = {
  'datasets.list': { input: z.object({}).strict(), output: z.array(DatasetSummarySchema) },
  /** counts by status, quarantine reason and split; class names; the quarantine report */
  'datasets.info': { input: z.object({ dataset: DatasetName }).strict(), output: DatasetInfoSchema },
  /** one clip's row (the inspector opened from a link: #/datasets/<name>?clip=<id>) */
  'datasets.clip': { input: Clip, output: ClipRowSchema },
  /** a page of clips, filtered and sorted (import order by default), with the number of clips the filter matches */
  'datasets.clips': {
    input: z
      .object({
        dataset: DatasetName,
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(1000).default(200),
        ...FilterAndSort
      })
      .strict(),
    output: z.object({ total: z.number().int(), offset: z.number().int(), rows: z.array(ClipRowSchema) })
  },
  /** where a clip is in that list (its index, as datasets.clips' offsets count), or null when the filter leaves it out */
  'datasets.position': { input: Clip.extend(FilterAndSort).strict(), output: z.object({ index: z.number().int().nullable() }) },
  /** relabel (class indices, primary first; or `primary` alone, the others kept), move to a split, or exclude from training */
  'datasets.edit': { input: z.object({ dataset: DatasetName, clip: ClipId, ...ClipEditFields }).strict(), output: ClipRowSchema },
  /** the same edit on several clips at once (a selection in the grid or the embedding map), all or none */
  'datasets.editMany': {
    input: z.object({ dataset: DatasetName, clips: z.array(ClipId).min(1).max(100_000), ...ClipEditFields }).strict(),
    output: z.object({ rows: z.array(ClipRowSchema) })
  },
  /** import a folder (sub-folder names become labels) or a manifest as a job: live progress, then the report */
  'datasets.import': { input: ImportArgsSchema, output: JobSchema },
  /** a job: the dataset's own input statistics (when none are stored), then every usable clip into the preset's cache */
  'datasets.prepare': { input: z.object({ dataset: DatasetName, preset: z.enum(['tiny', 'small', 'base']).default('tiny') }).strict(), output: JobSchema },
  /** how the clip's video is played; starts its transcode when it needs one (poll until ready or failed) */
  'datasets.playback': { input: Clip, output: PlaybackSchema },
  /** removes the cached transcodes and thumbnails of file versions no usable clip has any more (`dataset prune-cache`) */
  'datasets.pruneCache': { input: z.object({ dataset: DatasetName }).strict(), output: z.object({ folders: z.array(CachePruneSchema) }) },
  /** one audio and one visual augmentation of a clip, sampled with a seed: vectors and augmented images */
  'datasets.augmentPreview': {
    input: Clip.extend({ seed: z.number().int().min(0).max(2 ** 31).default(0) }).strict(),
    output: z.object({ seed: z.number().int(), frame: z.number().int(), original: z.object({ spectrogram: z.string(), frame: z.string() }), audio: AugmentationSchema, visual: AugmentationSchema })
  }
} as const satisfies Record<(typeof DATASETS_METHODS)[number], MethodSpec>
