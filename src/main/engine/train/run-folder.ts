/**
 * What every training loop (pretraining, fine-tuning) does with its run folder: create it or reopen it
 * with --resume, restore the newest checkpoint, keep metrics.jsonl on the resumed timeline, and read the
 * clips of a step (batch composition is a pure function of seed and step, see data-source.ts).
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadLatestCheckpoint } from '../checkpoint/store'
import type { Params } from '../model'
import type { AdamW } from '../optim'
import { readJsonl, writeFileAtomic, writeJsonAtomic } from '../../util/atomic'
import type { JobContext } from '../../jobs/context'
import { batchIndices, type ClipSource } from './data-source'
import { assignFrom } from './run'
import type { RawClip } from './synthetic'

/**
 * config.json of a new run (`fresh`), or of a resumed one (`resumed` gets the stored config). An existing
 * run is never overwritten without --resume.
 */
export async function openRunConfig<C>(runDir: string, resume: boolean, ctx: JobContext, make: { fresh(): C; resumed(previous: C): C }): Promise<C> {
  const configPath = join(runDir, 'config.json')
  const exists = existsSync(configPath)
  if (exists && !resume) throw new Error(`run folder ${runDir} already exists: pass --resume to continue it, or choose another --run name`)
  if (exists) {
    const cfg = make.resumed(JSON.parse(await readFile(configPath, 'utf8')) as C)
    await writeJsonAtomic(configPath, cfg)
    return cfg
  }
  if (resume) ctx.log(`run ${runDir} has no config yet: starting it from step 0`)
  await mkdir(runDir, { recursive: true })
  const cfg = make.fresh()
  await writeJsonAtomic(configPath, cfg)
  return cfg
}

/** Metrics logged after the checkpoint we resume from belong to a timeline that no longer exists. */
export async function truncateMetrics(path: string, lastStep: number): Promise<void> {
  if (!existsSync(path)) return
  const { rows } = await readJsonl<{ step: number }>(path)
  const kept = rows.filter((r) => r.step <= lastStep)
  await writeFileAtomic(path, kept.map((r) => JSON.stringify(r) + '\n').join(''))
}

/** Restores weights and optimizer state from the run's newest checkpoint; returns the step to continue from. */
export async function resumeFromLatest(runDir: string, params: Params, optimizer: AdamW, metricsPath: string, ctx: JobContext): Promise<number> {
  const ckpt = await loadLatestCheckpoint(runDir)
  if (!ckpt) {
    ctx.log(`no checkpoint in ${runDir} yet: starting from step 0`)
    await truncateMetrics(metricsPath, -1)
    return 0
  }
  assignFrom(params, ckpt.weights, ckpt.dir)
  optimizer.importState(ckpt.optimizer)
  const step = (ckpt.state as { step: number }).step
  await truncateMetrics(metricsPath, step)
  ctx.log(`resuming ${runDir} from its checkpoint at step ${step}`)
  return step
}

export interface FetchedClips {
  epoch: number
  clips: RawClip[]
}

/** The clips of a step; callers start it one step ahead so the reads overlap the previous step's compute. */
export async function fetchClips(source: ClipSource, step: number, batchSize: number, seed: number): Promise<FetchedClips> {
  const { epoch, indices } = batchIndices(step, source.size, batchSize, seed)
  return { epoch, clips: await Promise.all(indices.map((i) => source.clip(i))) }
}
