/**
 * The workspace's measured seconds per training step (<workspace>/step-times.json), one figure per
 * (backend, task, preset, batch), written by the `estimate` job and read by the Train forms. The file also
 * keeps the backend the engine processes last chose, so a figure can be looked up without starting one.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type StepTimeKey, stepTimeKey } from '../../shared/estimate'
import { stepsPerEpoch } from '../engine/train/data-source'
import { writeJsonAtomic } from '../util/atomic'

export interface StepTimes {
  /** the backend the last measuring engine process used */
  backend: string | null
  entries: Record<string, { secondsPerStep: number; measured: string }>
}

export const stepTimesPath = (workspace: string): string => join(workspace, 'step-times.json')

export function readStepTimes(workspace: string): StepTimes {
  const path = stepTimesPath(workspace)
  if (!existsSync(path)) return { backend: null, entries: {} }
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<StepTimes>
  if (typeof raw !== 'object' || raw === null || typeof raw.entries !== 'object') throw new Error(`${path}: not a step-times file (no "entries")`)
  return { backend: raw.backend ?? null, entries: raw.entries ?? {} }
}

export async function recordStepTime(workspace: string, key: StepTimeKey, secondsPerStep: number): Promise<void> {
  const times = readStepTimes(workspace)
  times.entries[stepTimeKey(key)] = { secondsPerStep, measured: new Date().toISOString() }
  await writeJsonAtomic(stepTimesPath(workspace), { ...times, backend: key.backend })
}

/** The backend a new engine process will use: the forced one, else the one the last measurement ran on. */
export function expectedBackend(times: StepTimes, forced: string | undefined = process.env.EQUIAV_BACKEND): string | null {
  return forced || times.backend
}

/** Seconds per epoch: the measured step time by the steps of an epoch (full batches, as training draws them). */
export function epochSeconds(secondsPerStep: number, trainClips: number, batchSize: number): number {
  return secondsPerStep * stepsPerEpoch(trainClips, batchSize)
}
