/**
 * A training run's folder as the engine's loops use it (a RunStore): locked while trained (run.lock with
 * the pid); config.json created, or reopened on resume, through its schema; metrics.jsonl appended a row
 * per step and cut back to the checkpoint a run resumes from; checkpoints saved atomically, the newest
 * `keepCheckpoints` kept, and on resume the newest intact one with finite weights used.
 */
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { z } from 'zod'
import type { RunStore } from '../engine/train/loop'
import { appendLine, readJsonl, writeFileAtomic, writeJsonAtomic } from '../util/atomic'
import { acquirePidLock } from '../util/pid-lock'
import { type LoadedCheckpoint, listCheckpoints, loadLatestCheckpoint, saveCheckpoint } from './checkpoints'
import { configPath, readConfig } from './config'

export interface RunFolderOptions<C> {
  /** config.json's schema, with the migrations of older runs */
  schema: z.ZodType<C>
  /** newest checkpoints kept (0: all) */
  keepCheckpoints: number
  /** where a resumed run that has no config yet is said to start afresh, skipped checkpoints and cleared locks are told */
  log(line: string): void
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

export function openRunFolder<C>(dir: string, o: RunFolderOptions<C>): RunStore<C> {
  const metricsPath = join(dir, 'metrics.jsonl')
  return {
    dir,
    name: dir.split(/[\\/]/).pop() ?? dir,
    async locked(train) {
      await mkdir(dir, { recursive: true })
      const lock = await acquirePidLock(join(dir, 'run.lock'), `training run ${dir}`, (line) => o.log(line))
      try {
        return await train()
      } finally {
        await lock.release()
      }
    },
    async openConfig(resume, make) {
      const exists = existsSync(configPath(dir))
      if (exists && !resume) throw new Error(`run folder ${dir} already exists: pass --resume to continue it, or choose another --run name`)
      if (exists) {
        const cfg = make.resumed(await readConfig(dir, o.schema))
        await writeJsonAtomic(configPath(dir), cfg)
        return cfg
      }
      if (resume) o.log(`run ${dir} has no config yet: starting it from step 0`)
      await mkdir(dir, { recursive: true })
      const cfg = make.fresh()
      await writeJsonAtomic(configPath(dir), cfg)
      return cfg
    },
    saveConfig: (cfg) => writeJsonAtomic(configPath(dir), cfg),
    async restoreLatest() {
      const ckpt = await loadLatestCheckpoint(dir, nonFiniteWeights)
      for (const s of ckpt?.skipped ?? []) o.log(`skipped checkpoint ${s.dir}: ${s.reason}`)
      await truncateMetrics(metricsPath, ckpt ? ckpt.step : -1)
      return ckpt
    },
    newestCheckpoint: async () => (await listCheckpoints(dir)).pop()?.dir ?? null,
    appendMetrics: (row) => appendLine(metricsPath, JSON.stringify(row)),
    async saveCheckpoint(step, contents) {
      await saveCheckpoint(dir, step, contents, o.keepCheckpoints)
    }
  }
}
