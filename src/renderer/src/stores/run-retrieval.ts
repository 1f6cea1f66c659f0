/** Each run's lineage and newest retrieval R@K (for the runs table), reloaded when a job ends or a new run logs. */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { RunRetrieval } from '../../../shared/contract'
import { api } from '../api'

export const useRunRetrievalStore = defineStore('run-retrieval', () => {
  const list = ref<RunRetrieval[]>([])
  const byRun = computed(() => new Map(list.value.map((r) => [r.run, r])))

  async function refresh(): Promise<void> {
    try {
      list.value = await api.call('runs.retrieval', {})
    } catch {
      // the runs table shows its own errors; a run folder this cannot read just has no R@K column
      list.value = []
    }
  }

  api.on('api.connected', () => void refresh())
  api.on('job.state', (j) => {
    if (j.state === 'done' && (j.kind === 'embed' || j.kind === 'pretrain' || j.kind === 'finetune')) void refresh()
  })
  // a run that is new to the table (a fine-tuning job just started) shows its lineage while it trains
  api.on('run.metrics', ({ run }) => {
    if (!byRun.value.has(run)) void refresh()
  })
  return { list, byRun, refresh }
})
