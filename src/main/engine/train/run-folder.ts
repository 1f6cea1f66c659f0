/**
 * What every training loop (pretraining, fine-tuning) does with its run folder: create it or reopen it
 * with --resume, restore the newest checkpoint, keep metrics.jsonl on the resumed timeline, and read the
 * clips of a step (batch composition is a pure function of seed and step, see data-source.ts).
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type LoadedCheckpoint, listCheckpoints, loadLatestCheckpoint } from '../checkpoint/store'
import type { Params } from '../model'
import type { AdamW } from '../optim'
import { readJsonl, writeFileAtomic, writeJsonAtomic } from '../../util/atomic'
import { acquirePidLock } from '../../util/pid-lock'
import { paramHealth } from './param-health'
import type { JobContext } from '../../jobs/context'
import { batchIndices, type ClipSource } from './data-source'
import { assignFrom } from './run'
import type { RawClip } from './synthetic'

/**
 * Runs `train` holding the run's lock (`<runDir>/run.lock`, with this process's pid), so a second process
 * cannot train the same run at the same time; a lock left by a dead process is cleared.
 */
export async function withRunLock<T>(runDir: string, ctx: JobContext, train: () => Promise<T>): Promise<T> {
  await mkdir(runDir, { recursive: true })
  const lock = await acquirePidLock(join(runDir, 'run.lock'), `training run ${runDir}`, (line) => ctx.log(line))
  try {
    return await train()
  } finally {
    await lock.release()
  }
}

/** The error a run stops with when the training guard stops it: nothing of the bad step is checkpointed. */
export async function guardStopError(runDir: string, reason: string): Promise<Error> {
  const newest = (await listCheckpoints(runDir)).pop()
  return new Error(
    `training stopped: ${reason}. Nothing after the last good step was checkpointed: ` +
      (newest ? `the newest checkpoint is still ${newest.dir}` : `${runDir} has no checkpoint`)
  )
}

/**
 * The last guard before a checkpoint: parameters that are not finite (possible between the guard's checks
 * when the steps run on engine workers) stop the run instead of being written.
 */
export async function refuseNonFinite(runDir: string, params: Params, step: number): Promise<void> {
  const h = paramHealth(params)
  if (h.nonFinite > 0) throw await guardStopError(runDir, `the parameters at step ${step} hold ${h.nonFinite} of ${h.total} non-finite values`)
}

/** A learning rate changed by `--resume --lr`: from which step, from what, to what. */
export interface LrChange {
  step: number
  from: number
  to: number
  time: string
}

/** `--resume` with a new `--lr`: the run continues at it from `step`, and config.json records the change. */
export async function applyResumedLr<C extends { lr: number; lrChanges?: LrChange[] }>(runDir: string, cfg: C, requested: number | undefined, step: number, ctx: JobContext): Promise<void> {
  if (requested === undefined || requested === cfg.lr) return
  ctx.log(`peak learning rate ${cfg.lr} → ${requested} from step ${step} (recorded in config.json)`)
  cfg.lrChanges = [...(cfg.lrChanges ?? []), { step, from: cfg.lr, to: requested, time: new Date().toISOString() }]
  cfg.lr = requested
  await writeJsonAtomic(join(runDir, 'config.json'), cfg)
}

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

/** Weights that are NaN or ±Infinity: a run that diverged before the training guard existed could save them. */
function nonFiniteWeights(ckpt: LoadedCheckpoint): string | null {
  let bad = 0
  let total = 0
  for (const t of ckpt.weights.values()) {
    total += t.data.length
    for (const x of t.data) if (!Number.isFinite(x)) bad++
  }
  return bad ? `${bad} of ${total} weights are not finite` : null
}

/**
 * Restores weights and optimizer state from the run's newest intact checkpoint with finite weights (a
 * corrupt newer one is skipped, saying why); returns the step to continue from.
 */
export async function resumeFromLatest(runDir: string, params: Params, optimizer: AdamW, metricsPath: string, ctx: JobContext): Promise<number> {
  const ckpt = await loadLatestCheckpoint(runDir, nonFiniteWeights)
  for (const s of ckpt?.skipped ?? []) ctx.log(`skipped checkpoint ${s.dir}: ${s.reason}`)
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
