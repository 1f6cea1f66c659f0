/** The job queue as every view sees it, kept current by the job events (and reloaded on each (re)connect). */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { Job } from '../../../shared/contract'
import { api } from '../api'

const LOG_LINES = 10

export const useJobsStore = defineStore('jobs', () => {
  /** newest first */
  const jobs = ref<Job[]>([])
  const error = ref<string | null>(null)

  async function refresh(): Promise<void> {
    try {
      jobs.value = (await api.call('jobs.list', {})).reverse()
      error.value = null
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err)
    }
  }

  function upsert(job: Job): void {
    const i = jobs.value.findIndex((j) => j.id === job.id)
    if (i >= 0) jobs.value[i] = job
    else jobs.value.unshift(job)
  }

  async function act(method: 'jobs.cancel' | 'jobs.resume', id: string): Promise<void> {
    try {
      upsert(await api.call(method, { id }))
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err)
    }
  }

  api.on('api.connected', () => void refresh())
  api.on('job.state', upsert)
  api.on('job.progress', ({ id, progress, eta }) => {
    const j = jobs.value.find((x) => x.id === id)
    if (j) Object.assign(j, { progress, eta })
  })
  api.on('job.log', ({ id, lines }) => {
    const j = jobs.value.find((x) => x.id === id)
    if (j) j.log = [...j.log, ...lines].slice(-LOG_LINES)
  })

  return { jobs, error, refresh, upsert, act }
})
