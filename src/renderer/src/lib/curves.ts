/** A metric's curve as the charts draw it: x as step, epoch or wall-clock minutes, y raw and EMA-smoothed. */
import type { MetricsRow } from '../../../shared/contract'

export const X_AXES = ['step', 'epoch', 'wall-clock'] as const
export type XAxis = (typeof X_AXES)[number]

export const X_AXIS_NAMES: Record<XAxis, string> = { step: 'step', epoch: 'epoch', 'wall-clock': 'minutes since the first step' }

/**
 * TensorBoard's smoothing: an exponential moving average with weight w in [0, 1), debiased so the first
 * points are not pulled towards 0: s_i = m_i / (1 − w^i), m_i = w·m_{i−1} + (1 − w)·y_i, m_0 = 0.
 * w = 0 leaves the values as they are.
 */
export function emaSmooth(values: readonly number[], weight: number): number[] {
  if (!(weight >= 0 && weight < 1)) throw new Error(`smoothing weight must be in [0, 1), got ${weight}`)
  let m = 0
  let decay = 1
  return values.map((y) => {
    m = weight * m + (1 - weight) * y
    decay *= weight
    return m / (1 - decay)
  })
}

/** Each row's x: its step, its fractional epoch (step / steps per epoch), or minutes since the first row's time. */
export function xValues(rows: readonly MetricsRow[], axis: XAxis, stepsPerEpoch: number): number[] {
  if (axis === 'step') return rows.map((r) => r.step)
  if (axis === 'epoch') return rows.map((r) => r.step / Math.max(1, stepsPerEpoch))
  const t0 = rows.length ? Date.parse(rows[0].time) : NaN
  return rows.map((r) => (Date.parse(r.time) - t0) / 60_000)
}

export interface CurveOptions {
  axis: XAxis
  /** EMA weight in [0, 1) */
  smoothing: number
  /** a log y axis: points at or below 0 cannot be drawn and are left out */
  log: boolean
  stepsPerEpoch: number
}

/** The [x, y] points of one metric, smoothed; rows without the metric (or without a usable x) are left out. */
export function curvePoints(rows: readonly MetricsRow[], metric: keyof MetricsRow, o: CurveOptions): [number, number][] {
  const xs = xValues(rows, o.axis, o.stepsPerEpoch)
  const kept = rows.flatMap((r, i) => {
    const y = r[metric]
    return typeof y === 'number' && Number.isFinite(y) && Number.isFinite(xs[i]) && (!o.log || y > 0) ? [[xs[i], y] as [number, number]] : []
  })
  const smooth = emaSmooth(kept.map(([, y]) => y), o.smoothing)
  return kept.map(([x], i) => [x, smooth[i]])
}

/** What the user sets on a chart: smoothing, log scale and the x axis. */
export interface ChartSettings extends Record<string, unknown> {
  smoothing: number
  log: boolean
  axis: XAxis
}

export const DEFAULT_CHART: ChartSettings = { smoothing: 0.6, log: false, axis: 'step' }
