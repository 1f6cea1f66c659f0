/** Events: what the main process pushes to the pages while jobs run. */
import { z } from 'zod'
import type { EVENTS } from '../methods'
import { JobProgressSchema, JobSchema } from './jobs'
import { MetricsRowSchema } from './runs'

export const eventsContract = {
  /** a job was queued, started, or ended (done, failed, cancelled) */
  'job.state': JobSchema,
  /** a running job reported progress */
  'job.progress': z.object({ id: z.string(), progress: JobProgressSchema, eta: z.number().nullable() }),
  /** lines a running job logged */
  'job.log': z.object({ id: z.string(), lines: z.array(z.string()) }),
  /** rows appended to a run's metrics.jsonl */
  'run.metrics': z.object({ run: z.string(), rows: z.array(MetricsRowSchema) }),
  'api.connected': z.object({})
} as const satisfies Record<(typeof EVENTS)[number], z.ZodType>
