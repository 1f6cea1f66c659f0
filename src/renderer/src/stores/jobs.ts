/** The job queue as every view sees it. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { Job } from '../../../shared/contract'
import { api } from '../api'

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

  async function act(method: 'jobs.cancel' | 'jobs.resume', id: string): Promise<void> {
    await api.call(method, { id })
    await refresh()
  }

  let timer: ReturnType<typeof setInterval> | undefined
  let watchers = 0
  /** keeps the list fresh while at least one view shows it */
  function watch(): () => void {
    if (watchers++ === 0) {
      void refresh()
      timer = setInterval(refresh, 1000)
    }
    return () => {
      if (--watchers === 0) clearInterval(timer)
    }
  }

  return { jobs, error, refresh, act, watch }
})
