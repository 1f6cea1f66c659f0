/**
 * The runs table's columns: config.json settings, the last metrics row, retrieval on one evaluation set
 * (lib/eval-sets.ts) and where the run came from; with the filter and the sort the user applies to them.
 */
import type { RunRetrieval, RunSummary } from '../../../shared/contract'
import { evaluationOn } from './eval-sets'

export type Cell = string | number | boolean | null | undefined

export interface RowContext {
  retrieval: ReadonlyMap<string, RunRetrieval>
  /** the evaluation set the R@K columns rank runs on (evaluationKey), or null */
  evalSet: string | null
}

export interface RunColumn {
  key: string
  label: string
  group: 'config' | 'training' | 'retrieval' | 'origin'
  value(r: RunSummary, ctx: RowContext): Cell
  /** how a number is written: fixed digits, or 'e' for an exponent (learning rates) */
  digits?: number | 'e'
  /** larger is better: sorting by it puts the best first */
  higherFirst?: boolean
}

const RECALLS = ['R@1', 'R@5', 'R@10', 'median_rank'] as const
const recallColumn = (dir: 'a2v' | 'v2a', k: (typeof RECALLS)[number]): RunColumn => ({
  key: `${dir}.${k}`,
  label: `${dir === 'a2v' ? 'A→V' : 'V→A'} ${k === 'median_rank' ? 'median rank' : k}`,
  group: 'retrieval',
  digits: 1,
  higherFirst: k !== 'median_rank',
  value: (r, ctx) => (ctx.evalSet ? evaluationOn(ctx.retrieval.get(r.name)?.evaluations ?? [], ctx.evalSet)?.[dir][k] : undefined)
})

export const RUN_COLUMNS: RunColumn[] = [
  { key: 'kind', label: 'kind', group: 'config', value: (r) => r.kind },
  { key: 'preset', label: 'preset', group: 'config', value: (r) => r.preset },
  { key: 'objective', label: 'objective', group: 'config', value: (r) => r.objective },
  { key: 'lr', label: 'lr', group: 'config', digits: 'e', value: (r) => r.settings.lr },
  { key: 'batch', label: 'batch', group: 'config', value: (r) => r.settings.batchSize },
  { key: 'S', label: 'S', group: 'config', value: (r) => r.settings.S },
  { key: 'timeRoll', label: 'time roll', group: 'config', value: (r) => r.settings.timeRoll },
  { key: 'seed', label: 'seed', group: 'config', value: (r) => r.settings.seed },
  { key: 'dataset', label: 'dataset', group: 'config', value: (r) => r.settings.dataset },
  { key: 'steps', label: 'steps', group: 'config', value: (r) => r.totalSteps },
  { key: 'epochs', label: 'epochs', group: 'config', digits: 2, value: (r) => r.settings.epochs },
  { key: 'warmup', label: 'warm-up', group: 'config', value: (r) => r.settings.warmupSteps },
  { key: 'tau', label: 'τ', group: 'config', value: (r) => r.settings.tau },
  { key: 'backend', label: 'backend', group: 'config', value: (r) => r.backend },
  { key: 'workers', label: 'workers', group: 'config', value: (r) => r.settings.workers },
  { key: 'step', label: 'step', group: 'training', value: (r) => r.last?.step ?? 0 },
  { key: 'loss', label: 'loss', group: 'training', digits: 4, value: (r) => r.last?.loss },
  { key: 'loss_inter', label: 'inter', group: 'training', digits: 4, value: (r) => r.last?.loss_inter },
  { key: 'loss_intra_a', label: 'intra a', group: 'training', digits: 4, value: (r) => r.last?.loss_intra_a },
  { key: 'loss_intra_v', label: 'intra v', group: 'training', digits: 4, value: (r) => r.last?.loss_intra_v },
  { key: 'clips_per_s', label: 'clips/s', group: 'training', digits: 1, value: (r) => r.last?.clips_per_s },
  ...(['a2v', 'v2a'] as const).flatMap((dir) => RECALLS.map((k) => recallColumn(dir, k))),
  {
    key: 'lineage',
    label: 'lineage',
    group: 'origin',
    value: (r, ctx) => {
      const l = ctx.retrieval.get(r.name)?.lineage
      return l ? `from ${l.from}${l.step !== null ? ` @ ${l.step}` : ''}` : r.settings.init ? `init ${r.settings.init}` : ''
    }
  },
  { key: 'trains', label: 'trains', group: 'origin', value: (r) => (r.location ? `attached: ${r.location}` : 'here') },
  { key: 'data', label: 'data', group: 'origin', value: (r) => r.data }
]

export const DEFAULT_COLUMNS = ['objective', 'lr', 'batch', 'S', 'timeRoll', 'seed', 'dataset', 'step', 'loss', 'loss_inter', 'a2v.R@1', 'v2a.R@1', 'lineage', 'trains']

export function formatCell(c: RunColumn, v: Cell): string {
  if (v === undefined || v === null || v === '') return '–'
  if (typeof v === 'boolean') return v ? 'on' : 'off'
  if (typeof v === 'number') return c.digits === 'e' ? v.toExponential(1).replace('.0e', 'e') : c.digits !== undefined ? v.toFixed(c.digits) : String(v)
  return v
}

/**
 * The filter: whitespace-separated terms, all of which must hold. `key=value`, `key<number`, `key>number`
 * (key: a column's key or label without spaces, case-insensitive) test one column; any other term must
 * appear in the run's name or one of the shown columns.
 */
export function matchesFilter(r: RunSummary, query: string, shown: readonly RunColumn[], ctx: RowContext): boolean {
  return query
    .split(/\s+/)
    .filter(Boolean)
    .every((term) => {
      const m = /^([^=<>]+)([=<>])(.+)$/.exec(term)
      const column = m && RUN_COLUMNS.find((c) => [c.key, c.label].some((n) => n.replace(/\s+/g, '').toLowerCase() === m[1].toLowerCase()))
      if (!m || !column) {
        const t = term.toLowerCase()
        return r.name.toLowerCase().includes(t) || shown.some((c) => formatCell(c, c.value(r, ctx)).toLowerCase().includes(t))
      }
      const v = column.value(r, ctx)
      if (m[2] === '=') return formatCell(column, v).toLowerCase() === m[3].toLowerCase() || (typeof v === 'number' && v === Number(m[3]))
      const bound = Number(m[3])
      return typeof v === 'number' && Number.isFinite(bound) && (m[2] === '<' ? v < bound : v > bound)
    })
}

/** Runs ordered by one column (the run's name when key is 'name'); runs without a value go last either way. */
export function sortRuns(runs: readonly RunSummary[], key: string, ascending: boolean, ctx: RowContext): RunSummary[] {
  const column = RUN_COLUMNS.find((c) => c.key === key)
  const valueOf = (r: RunSummary): Cell => (column ? column.value(r, ctx) : r.name)
  const missing = (v: Cell): boolean => v === undefined || v === null || v === ''
  return [...runs].sort((a, b) => {
    const [x, y] = [valueOf(a), valueOf(b)]
    if (missing(x) || missing(y)) return missing(x) ? (missing(y) ? 0 : 1) : -1
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))
    return ascending ? c : -c
  })
}
