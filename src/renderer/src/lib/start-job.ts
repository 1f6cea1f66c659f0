/** Queues a job from a form: its arguments checked against the contract's schema first, so a bad field is
 * named before anything is sent; the job joins the queue every view shows. */
import { type ComputedRef, type Ref, computed, ref } from 'vue'
import type { z } from 'zod'
import { type Input, type Job, describeIssues } from '../../../shared/contract'
import { api } from '../api'
import { useJobsStore } from '../stores/jobs'

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err))

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
    return errorText(err)
  }
}

/** The job a form starts with `start(call)`, followed through the job events; `message` is why the last call failed. */
export function useStartedJob(): { id: Ref<string | null>; job: ComputedRef<Job | null>; message: Ref<string | null>; start(call: () => Promise<Job>): Promise<void> } {
  const jobs = useJobsStore()
  const id = ref<string | null>(null)
  const message = ref<string | null>(null)
  async function start(call: () => Promise<Job>): Promise<void> {
    try {
      const j = await call()
      jobs.upsert(j)
      id.value = j.id
      message.value = null
    } catch (err) {
      message.value = errorText(err)
    }
  }
  return { id, job: computed(() => jobs.jobs.find((j) => j.id === id.value) ?? null), message, start }
}
