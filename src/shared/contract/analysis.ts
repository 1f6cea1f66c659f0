/**
 * Analysis: a run's embeddings of a dataset split (computed by an `embed` job), cross-modal retrieval
 * queries and summaries over them, the 2-D embedding map, and each run's latest retrieval for the runs table.
 * The map's points travel as binary columns (src/shared/columns.ts): `embeddings.points` returns bytes —
 * over HTTP at GET /api-bin/embeddings/<run>/<dataset>/<split>, over IPC as a Uint8Array.
 */
import { z } from 'zod'
import type { ANALYSIS_METHODS } from '../methods'
import { ClipStatusSchema, DatasetName, SplitSchema } from './datasets'
import { JobSchema } from './jobs'
import { RunName } from './runs'
import type { MethodSpec } from './spec'

/** A run's embeddings of one dataset split. */
export const EmbeddingTargetSchema = z.object({ run: RunName, dataset: DatasetName, split: SplitSchema }).strict()
export type EmbeddingTarget = z.infer<typeof EmbeddingTargetSchema>

export const DirectionSchema = z.enum(['a2v', 'v2a'])
export type Direction = z.infer<typeof DirectionSchema>

export const RetrievalMetricsSchema = z.object({ 'R@1': z.number(), 'R@5': z.number(), 'R@10': z.number(), median_rank: z.number() })
export type RetrievalMetrics = z.infer<typeof RetrievalMetricsSchema>

export const RetrievalSummarySchema = z.object({
  run: z.string(),
  /** the checkpoint step the embeddings came from */
  step: z.number().int(),
  dataset: z.string(),
  split: SplitSchema,
  embedding: z.string(),
  n: z.number().int(),
  a2v: RetrievalMetricsSchema,
  v2a: RetrievalMetricsSchema,
  per_class: z.record(z.string(), z.object({ n: z.number().int(), a2v: RetrievalMetricsSchema, v2a: RetrievalMetricsSchema })),
  /** when the report was written (ISO time) */
  created: z.string()
})
export type RetrievalSummary = z.infer<typeof RetrievalSummarySchema>

export const RetrievalHitSchema = z.object({
  id: z.string(),
  /** cosine similarity to the query */
  score: z.number(),
  labels: z.array(z.string()),
  /** the query clip's own other modality */
  truePair: z.boolean()
})
export type RetrievalHit = z.infer<typeof RetrievalHitSchema>

export const RetrievalAnswerSchema = z.object({
  query: z.object({ id: z.string(), labels: z.array(z.string()) }),
  direction: DirectionSchema,
  /** gallery size */
  n: z.number().int(),
  /** 1-based rank of the true pair in the whole gallery */
  rank: z.number().int(),
  hits: z.array(RetrievalHitSchema)
})
export type RetrievalAnswer = z.infer<typeof RetrievalAnswerSchema>

/** A clip's state in the catalog now: its status, or excluded from training; missing when no longer catalogued. */
export const MapClipStatusSchema = z.enum([...ClipStatusSchema.options, 'excluded'])
export type MapClipStatus = z.infer<typeof MapClipStatusSchema>

export const EmbeddingMapMetaSchema = z.object({
  n: z.number().int(),
  ids: z.array(z.string()),
  /** each clip's primary label (class index) in the catalog now, -1 for none */
  labels: z.array(z.number().int()),
  /** each clip's split in the catalog now (an edit may have moved it since it was embedded); null when missing */
  splits: z.array(SplitSchema.nullable()),
  status: z.array(MapClipStatusSchema),
  classes: z.array(z.string()),
  /** names of the float32 columns of `embeddings.points`, in order, n values each */
  columns: z.array(z.string()),
  /** changes when the embeddings are recomputed: fetch the points again */
  version: z.number()
})
export type EmbeddingMapMeta = z.infer<typeof EmbeddingMapMetaSchema>

/**
 * How the map's 2-D coordinates are computed from the stored embeddings: PCA or seeded UMAP, of the audio
 * embeddings alone, the visual ones alone, or both in one space with each modality's mean subtracted first
 * (so the first axis is not spent on the gap between the modalities).
 */
export const MapProjectionSchema = z
  .object({
    method: z.enum(['pca', 'umap']).default('pca'),
    space: z.enum(['joint', 'audio', 'visual']).default('joint'),
    /** UMAP: the neighbourhood size (capped below the number of points) */
    nNeighbors: z.number().int().min(2).max(200).default(15),
    /** UMAP: how tightly points may pack */
    minDist: z.number().min(0).max(1).default(0.1),
    /** UMAP: its random generator's seed */
    seed: z.number().int().min(0).max(2 ** 31).default(0)
  })
  .strict()
export type MapProjection = z.infer<typeof MapProjectionSchema>
export type MapProjectionInput = z.input<typeof MapProjectionSchema>

const MapPointsInput = EmbeddingTargetSchema.extend({ projection: MapProjectionSchema.prefault({}) }).strict()

export const MapTaskStateSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('computing'), done: z.number().int(), total: z.number().int() }),
  z.object({ state: z.literal('ready') }),
  z.object({ state: z.literal('failed'), error: z.string() })
])
export type MapTaskState = z.infer<typeof MapTaskStateSchema>

/** config.json's `lineage` of a fine-tuning run: the run it started from, at which step (null: its newest) */
export const LineageSchema = z.object({ from: z.string(), kind: z.enum(['run', 'checkpoint']).default('run'), step: z.number().int().nullable().default(null) })

export const RunRetrievalSchema = z.object({
  run: z.string(),
  /** a fine-tuning run's origin (config.json `lineage`) */
  lineage: LineageSchema.nullable(),
  /** the newest retrieval report of the run, if any */
  latest: RetrievalSummarySchema.omit({ per_class: true }).nullable(),
  /** every retrieval report of the run, oldest first: R@K compares only runs evaluated on the same set */
  evaluations: z.array(RetrievalSummarySchema.omit({ per_class: true })),
  /** the dataset splits whose embeddings the run stores ("demo-test"): what the Retrieval and Embeddings views can show */
  embedded: z.array(z.string())
})
export type RunRetrieval = z.infer<typeof RunRetrievalSchema>

/** A run's page: its config.json as read through its schema, where it came from, what was trained from it, its checkpoints and evaluations. */
export const RunDetailSchema = z.object({
  run: z.string(),
  config: z.record(z.string(), z.unknown()),
  lineage: LineageSchema.nullable(),
  /** the runs fine-tuned from this one */
  derived: z.array(z.string()),
  /** complete checkpoints, oldest first, with when each was saved */
  checkpoints: z.array(z.object({ step: z.number().int(), savedAt: z.string().nullable() })),
  evaluations: z.array(RetrievalSummarySchema.omit({ per_class: true }))
})
export type RunDetail = z.infer<typeof RunDetailSchema>

export const analysisContract = {
  /** queue an `embed` job: the split's audio and visual embeddings, retrieval report and 2-D map */
  'analysis.embed': { input: EmbeddingTargetSchema, output: JobSchema },
  /** the top-k clips of the other modality for one query clip, from the stored embeddings */
  'retrieval.query': {
    input: EmbeddingTargetSchema.extend({
      clipId: z.string().min(1, 'a clip id').max(4096),
      direction: DirectionSchema,
      k: z.number().int().min(1).max(100).default(10)
    }).strict(),
    output: RetrievalAnswerSchema
  },
  /** R@1/5/10 and median rank in both directions, overall and per class; null before any embed job */
  'retrieval.summary': { input: EmbeddingTargetSchema, output: RetrievalSummarySchema.nullable() },
  /** the map's clip ids, labels and class names; null before any embed job */
  'embeddings.map': { input: EmbeddingTargetSchema, output: EmbeddingMapMetaSchema.nullable() },
  /** the map's coordinates as binary columns ax, ay, vx, vy (little-endian float32; NaN: a modality not in the projection's space), computed once per projection off the event loop */
  'embeddings.points': { input: MapPointsInput, output: z.instanceof(Uint8Array) },
  /** how the computation of a projection stands (progress while a UMAP runs); null before it is asked for */
  'embeddings.progress': { input: MapPointsInput, output: MapTaskStateSchema.nullable() },
  /** each clip's rank of its true pair in the other modality (1 = retrieved first), audio→visual and visual→audio */
  'embeddings.ranks': { input: EmbeddingTargetSchema, output: z.object({ a2v: z.array(z.number().int()), v2a: z.array(z.number().int()) }) },
  /** every run's lineage and retrieval reports, for the runs table's R@K columns */
  'runs.retrieval': { input: z.object({}).strict(), output: z.array(RunRetrievalSchema) },
  'runs.detail': { input: z.object({ run: RunName }).strict(), output: RunDetailSchema }
} as const satisfies Record<(typeof ANALYSIS_METHODS)[number], MethodSpec>

/** Methods whose output is bytes, and where `serve` answers them with a GET. */
export const BINARY_METHODS = ['embeddings.points'] as const
export type BinaryMethod = (typeof BINARY_METHODS)[number]

export function isBinaryMethod(method: string): method is BinaryMethod {
  return (BINARY_METHODS as readonly string[]).includes(method)
}

/** the projection's fields that travel as numbers in the query string */
const NUMERIC_PROJECTION_FIELDS = new Set(['nNeighbors', 'minDist', 'seed'])

/** '/api-bin/embeddings/<run>/<dataset>/<split>', with the projection's fields given as a query string */
export function binaryPath(_method: BinaryMethod, t: EmbeddingTarget & { projection?: MapProjectionInput }): string {
  const query = new URLSearchParams(Object.entries(t.projection ?? {}).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]]))).toString()
  return `/api-bin/embeddings/${encodeURIComponent(t.run)}/${encodeURIComponent(t.dataset)}/${encodeURIComponent(t.split)}${query ? `?${query}` : ''}`
}

/** A binary path with its query string → the method and its (unvalidated) input, or null. */
export function parseBinaryPath(pathname: string, search = ''): { method: BinaryMethod; input: Record<string, unknown> } | null {
  const parts = pathname.split('/')
  if (parts.length !== 6 || parts[1] !== 'api-bin' || parts[2] !== 'embeddings') return null
  try {
    const [run, dataset, split] = parts.slice(3).map(decodeURIComponent)
    const projection = Object.fromEntries([...new URLSearchParams(search)].map(([k, v]) => [k, NUMERIC_PROJECTION_FIELDS.has(k) && v.trim() !== '' ? Number(v) : v]))
    return { method: 'embeddings.points', input: { run, dataset, split, projection } }
  } catch {
    return null
  }
}
