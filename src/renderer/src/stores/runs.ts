/**
 * The workspace's runs and the selected run's metrics rows: loaded once, then extended by the
 * `run.metrics` events as the job appends rows (and reloaded on each (re)connect).
 */
import { defineStore } from 'pinia'
import { ref, shallowRef, watch } from 'vue'
import type { MetricsRow, RunSummary } from '../../../shared/contract'
import { api } from '../api'
import { appendMetrics } from './metrics-merge'

/** how often the selected attached run's metrics.jsonl is read for new rows */
export const ATTACHED_POLL_MS = 5000

export const useRunsStore = defineStore('runs', () => {
  const runs = ref<RunSummary[]>([])
  const selected = ref<string | null>(null)
  const rows = shallowRef<MetricsRow[]>([])
  const error = ref<string | null>(null)
  /** rows that arrived while the selected run's log was being read */
  let pending: MetricsRow[] | null = null

  const fail = (err: unknown): void => {
    error.value = err instanceof Error ? err.message : String(err)
  }

  async function loadMetrics(): Promise<void> {
    const run = selected.value
    if (!run) return
    pending = []
    try {
      const got = await api.call('runs.metrics', { run, since: 0 })
      if (run !== selected.value) return
      rows.value = got.rows
      apply(pending)
    } catch (err) {
      fail(err)
    } finally {
      pending = null
    }
  }

  function apply(incoming: MetricsRow[]): void {
    if (!incoming.length) return
    // a new array, so the chart's props see the change
    const next = rows.value.slice()
    if (appendMetrics(next, incoming) === 'reload') void loadMetrics()
    else rows.value = next
  }

  async function refresh(): Promise<void> {
    try {
      runs.value = await api.call('runs.list', {})
      if (!selected.value && runs.value.length) selected.value = runs.value[runs.value.length - 1].name
      else await loadMetrics()
      error.value = null
    } catch (err) {
      fail(err)
    }
  }

  watch(selected, () => {
    rows.value = []
    void loadMetrics()
  })

  // an attached run trains elsewhere (no job here sends its rows): read the new rows of its log every few seconds
  async function followAttached(): Promise<void> {
    const run = selected.value
    const summary = runs.value.find((r) => r.name === run)
    if (!run || !summary?.location || pending) return
    try {
      const got = await api.call('runs.metrics', { run, since: rows.value.length })
      if (run !== selected.value) return
      if (got.next < rows.value.length) void loadMetrics() // the log was cut back (the run resumed from an earlier checkpoint)
      else apply(got.rows)
      if (got.rows.length) summary.last = got.rows[got.rows.length - 1]
    } catch (err) {
      fail(err)
    }
  }
  setInterval(() => void followAttached(), ATTACHED_POLL_MS)

  api.on('api.connected', () => void refresh())
  // a training job that starts writes a new run folder; one that ends has its final row
  api.on('job.state', (j) => {
    if (j.kind === 'pretrain' || j.kind === 'finetune') void api.call('runs.list', {}).then((r) => (runs.value = r), fail)
  })
  api.on('run.metrics', ({ run, rows: incoming }) => {
    const summary = runs.value.find((r) => r.name === run)
    if (summary && incoming.length) summary.last = incoming[incoming.length - 1]
    // a run started elsewhere (or whose folder appeared after its job started): list it
    else if (!summary) void api.call('runs.list', {}).then((r) => (runs.value = r), fail)
    if (run !== selected.value) return
    if (pending) pending.push(...incoming)
    else apply(incoming)
  })

  return { runs, selected, rows, error, refresh }
})
