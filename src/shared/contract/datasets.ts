/** Datasets: the workspace's catalogs, their clips, edits and imports. */
import { z } from 'zod'
import type { DATASETS_METHODS } from '../methods'
import type { MethodSpec } from './spec'

export const DatasetSummarySchema = z.object({
  name: z.string(),
  total: z.number().int(),
  ok: z.number().int(),
  quarantined: z.number().int(),
  classes: z.number().int()
})
export type DatasetSummary = z.infer<typeof DatasetSummarySchema>

export const datasetsContract = {
  'datasets.list': { input: z.object({}).strict(), output: z.array(DatasetSummarySchema) }
} as const satisfies Record<(typeof DATASETS_METHODS)[number], MethodSpec>
