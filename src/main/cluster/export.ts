/**
 * `equiav cluster export`: one folder that a cluster trains from — the dataset in CAV-MAE layout (or a
 * reference to an export already there), the run's config.json (or a desktop run to continue, with its
 * newest checkpoint), the PyTorch trainer, launch scripts, requirements and a README.
 */
import { existsSync } from 'node:fs'
import { chmod, copyFile, cp, mkdir, readFile, readdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Catalog } from '../data/catalog'
import { exportCavMae } from '../data/export'
import { listCheckpoints } from '../engine/checkpoint/store'
import type { BackendInfo } from '../engine/backend'
import { newRunConfig, type PretrainOptions, type RunConfig } from '../engine/train/pretrain'
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic'
import { REQUIREMENTS, clusterReadme, sbatchScript, torchrunScript } from './scripts'

/** What config.json records as the backend until the trainer starts and writes its own. */
export const CLUSTER_BACKEND = { name: 'pytorch', tfBackend: 'pytorch', reason: 'exported for the PyTorch trainer; set when it starts' } as unknown as BackendInfo

export interface ClusterExportOptions {
  catalog: Catalog
  dataset: string
  run: string
  out: string
  /** the training options as `equiav pretrain` resolves them (runDir, resume and init are not used) */
  training: Omit<PretrainOptions, 'runDir' | 'resume' | 'init'>
  /** a desktop run folder to continue on the cluster (its config and newest checkpoint are copied) */
  continueFrom?: string
  /** the CAV-MAE export already on the cluster: nothing is exported, the scripts read it there */
  dataRef?: string
  /** where the run folder lives on the cluster (default DIR/run) */
  runDir?: string
  signal?: AbortSignal
  onProgress?: (p: { done: number; total: number }) => void
  log?: (line: string) => void
}

export interface ClusterExportResult {
  out: string
  trainClips: number
  /** the step a continued desktop run resumes from, else null */
  continued: number | null
  stopped: boolean
}

/** python/equiav_trainer of this checkout, found from this module's folder up. */
export function trainerSourceDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'python', 'equiav_trainer')
    if (existsSync(join(candidate, '__init__.py'))) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw new Error('the PyTorch trainer (python/equiav_trainer) is not beside this installation')
    dir = parent
  }
}

async function copyTrainer(out: string): Promise<void> {
  const src = trainerSourceDir()
  const dest = join(out, 'trainer', 'equiav_trainer')
  await mkdir(dest, { recursive: true })
  for (const name of await readdir(src)) if (name.endsWith('.py')) await copyFile(join(src, name), join(dest, name))
}

async function trainClipCount(datafile: string): Promise<number> {
  return (JSON.parse(await readFile(datafile, 'utf8')) as { data: unknown[] }).data.length
}

/** A desktop run's config.json, metrics.jsonl and newest checkpoint, copied into `dest`; returns that checkpoint's step. */
async function copyDesktopRun(from: string, dest: string, steps?: number): Promise<{ step: number; config: RunConfig }> {
  const config = JSON.parse(await readFile(join(from, 'config.json'), 'utf8')) as RunConfig
  if ((config as { kind?: string }).kind === 'finetune') throw new Error(`${from}: a fine-tuning run; the cluster trainer pretrains`)
  const all = await listCheckpoints(from)
  const latest = all[all.length - 1]
  await mkdir(dest, { recursive: true })
  await writeJsonAtomic(join(dest, 'config.json'), steps === undefined ? config : { ...config, totalSteps: steps })
  if (existsSync(join(from, 'metrics.jsonl'))) await copyFile(join(from, 'metrics.jsonl'), join(dest, 'metrics.jsonl'))
  if (latest) await cp(latest.dir, join(dest, 'checkpoints', `step-${latest.step}`), { recursive: true })
  return { step: latest?.step ?? 0, config }
}

export async function exportForCluster(o: ClusterExportOptions): Promise<ClusterExportResult> {
  const out = resolve(o.out)
  const runOut = join(out, 'run')
  if (existsSync(join(runOut, 'config.json'))) throw new Error(`${runOut} already holds a run; choose another --out`)
  await mkdir(out, { recursive: true })

  let trainClips: number
  if (o.dataRef) {
    trainClips = o.catalog.list({ status: 'ok', split: 'train', excluded: false }).length
    o.log?.(`data: not exported; the scripts read the CAV-MAE export at ${o.dataRef}`)
  } else {
    const r = await exportCavMae({ catalog: o.catalog, out: join(out, 'data'), signal: o.signal, onProgress: o.onProgress })
    if (r.stopped) return { out, trainClips: 0, continued: null, stopped: true }
    if (!r.datafiles.train) throw new Error(`dataset "${o.dataset}" has no usable clips in its train split`)
    trainClips = await trainClipCount(r.datafiles.train)
    o.log?.(`data: ${r.exported} clips exported to ${join(out, 'data')} (${trainClips} for training, ${r.failed.length} failed to decode)`)
  }
  if (trainClips === 0) throw new Error(`dataset "${o.dataset}" has no usable clips in its train split`)

  let continued: number | null = null
  let config: RunConfig
  if (o.continueFrom) {
    const copied = await copyDesktopRun(o.continueFrom, runOut, o.training.steps)
    continued = copied.step
    config = copied.config
    o.log?.(`run: ${o.continueFrom} continues on the cluster from its checkpoint at step ${copied.step}`)
  } else {
    config = newRunConfig({ ...o.training, runDir: join(out, o.run), resume: false }, { size: trainClips, describe: `dataset ${o.dataset} (train split, CAV-MAE export)` }, CLUSTER_BACKEND)
    await mkdir(runOut, { recursive: true })
    await writeJsonAtomic(join(runOut, 'config.json'), config)
  }

  await copyTrainer(out)
  const settings = { run: o.run, runDir: o.runDir, data: o.dataRef }
  await writeFileAtomic(join(out, 'launch-torchrun.sh'), torchrunScript(settings))
  await writeFileAtomic(join(out, 'launch.sbatch'), sbatchScript(settings))
  await chmod(join(out, 'launch-torchrun.sh'), 0o755)
  await chmod(join(out, 'launch.sbatch'), 0o755)
  await writeFileAtomic(join(out, 'requirements.txt'), REQUIREMENTS)
  await writeFileAtomic(
    join(out, 'README.md'),
    clusterReadme({ ...settings, clips: trainClips, steps: o.training.steps ?? config.totalSteps, batch: config.batchSize, continued })
  )
  return { out, trainClips, continued, stopped: false }
}
