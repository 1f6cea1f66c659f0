/** The workspace's runs and the selected run's metrics rows. */
import { defineStore } from 'pinia'
import { ref, watch as vueWatch } from 'vue'
import type { MetricsRow, RunSummary } from '../../../shared/contract'
import { api } from '../api'

export const useRunsStore = defineStore('runs', () => {
  const runs = ref<RunSummary[]>([])
  const selected = ref<string | null>(null)
  const rows = ref<MetricsRow[]>([])
  const error = ref<string | null>(null)
  let next = 0

  async function refresh(): Promise<void> {
    try {
      runs.value = await api.call('runs.list', {})
      if (!selected.value && runs.value.length) selected.value = runs.value[runs.value.length - 1].name
      if (selected.value) {
        const run = selected.value
        const got = await api.call('runs.metrics', { run, since: next })
        if (run !== selected.value) return
        if (got.next < next) {
          // the run was resumed from an earlier checkpoint: its log was cut back
          rows.value = []
          next = 0
          return
        }
        rows.value = [...rows.value, ...got.rows]
        next = got.next
      }
      error.value = null
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err)
    }
  }

  vueWatch(selected, () => {
    rows.value = []
    next = 0
    void refresh()
  })

  let timer: ReturnType<typeof setInterval> | undefined
  let watchers = 0
  function watch(): () => void {
    if (watchers++ === 0) {
      void refresh()
      timer = setInterval(refresh, 1000)
    }
    return () => {
      if (--watchers === 0) clearInterval(timer)
    }
  }

  return { runs, selected, rows, error, refresh, watch }
})
