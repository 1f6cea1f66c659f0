/** Queues a training job from a form: its arguments checked against the contract's schema first, so a bad
 * field is named before anything is sent; the job joins the queue every view shows. */
import type { z } from 'zod'
import { type Input, describeIssues } from '../../../shared/contract'
import { api } from '../api'
import { useJobsStore } from '../stores/jobs'

/** A form's fields without its empty boxes, which leave their fields to the request schema's defaults. */
export const filledFields = (fields: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ''))

/** Resolves to the message to show, or null once the job is queued. */
export async function startJob(schema: z.ZodType, request: Input<'jobs.start'>): Promise<string | null> {
  const checked = schema.safeParse(request.args)
  if (!checked.success) return describeIssues(checked.error)
  try {
    useJobsStore().upsert(await api.call('jobs.start', request))
    return null
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  }
}
