import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { type Command, optionSpec, UsageError, parseFlags, str } from '../command'
import { stopped, withTerminalJob } from '../job-context'
import { checkName, datasetDir, resolveWorkspace, runDir } from '../../main/workspace'
import { Catalog } from '../../main/data/catalog'
import { requestModel, trainingOptions } from '../../main/workflows/pretrain'
import { PretrainRequestSchema } from '../../shared/requests'
import { exportForCluster } from '../../main/cluster/export'
import { attachRun } from '../../main/cluster/attach'
import { TRAINING_OPTIONS, TRAINING_USAGE, trainingFlags } from './training-options'

export const clusterExportCommand: Command = {
  path: ['cluster', 'export'],
  summary: 'a folder to pretrain on a cluster with PyTorch DDP: data, run config, trainer, torchrun and Slurm scripts',
  usage: [
    '  --dataset NAME               a dataset of the workspace (exported in CAV-MAE layout to DIR/data)',
    '  --run NAME                   the run name (its folder is DIR/run on the cluster unless --run-dir)',
    '  --out DIR                    the folder to copy to the cluster (or to write on a shared file system)',
    ...TRAINING_USAGE,
    '  --resume                     continue the workspace run NAME on the cluster from its newest checkpoint (its config',
    '                               is kept; only --steps may raise its budget)',
    '  --data PATH                  the dataset is already exported at PATH on the cluster: do not export it again',
    '  --run-dir PATH               where the scripts keep the run folder on the cluster (default DIR/run)',
    '  --workspace DIR',
    'Then on the cluster: ./launch-torchrun.sh [--nproc-per-node N] (one node), or sbatch launch.sbatch (several);',
    'and on the desktop: equiav cluster attach DIR --name NAME.'
  ].join('\n'),
  options: { ...TRAINING_OPTIONS, ...optionSpec(['dataset', 'run', 'out', 'data', 'run-dir', 'workspace'], ['resume']) },
  async run(values) {
    const dataset = str(values, 'dataset')
    const run = str(values, 'run')
    const out = str(values, 'out')
    if (!dataset || !run || !out) throw new UsageError('--dataset NAME, --run NAME and --out DIR are required')
    checkName('dataset', dataset)
    checkName('run', run)
    const workspace = resolveWorkspace(str(values, 'workspace'))
    const request = parseFlags(PretrainRequestSchema, { ...trainingFlags(values), run, dataset })
    const desktopRun = runDir(workspace, run)
    if (existsSync(join(desktopRun, 'config.json')) && !values.resume) {
      throw new UsageError(`run "${run}" already exists in the workspace: pass --resume to continue it on the cluster, or choose another --run name`)
    }
    if (values.resume && !existsSync(join(desktopRun, 'config.json'))) throw new UsageError(`--resume: the workspace has no run "${run}"`)
    const training = trainingOptions(request, requestModel(workspace, request))
    const catalog = Catalog.open(datasetDir(workspace, dataset))
    try {
      const r = await withTerminalJob('cluster export', (ctx) =>
        exportForCluster({
          catalog,
          dataset,
          run,
          out,
          training: { ...training, data: { kind: 'dataset', name: dataset } },
          continueFrom: values.resume ? desktopRun : undefined,
          dataRef: str(values, 'data'),
          runDir: str(values, 'run-dir'),
          signal: ctx.signal,
          onProgress: (p) => ctx.progress({ done: p.done, total: p.total, unit: 'clips' }),
          log: ctx.log
        })
      )
      if (r.stopped) return stopped(' the data export')
      process.stderr.write(
        `${r.out} is ready (${r.trainClips} training clips). On the cluster: ./launch-torchrun.sh [--nproc-per-node N] or sbatch launch.sbatch;\n` +
          `then here: equiav cluster attach ${r.out} --name ${run}\n`
      )
      return 0
    } finally {
      catalog.close()
    }
  }
}

export const clusterAttachCommand: Command = {
  path: ['cluster', 'attach'],
  summary: 'register a run folder on a shared or synced file system as a run of the workspace',
  usage: [
    '  equiav cluster attach DIR --name RUN',
    '  DIR                          the run folder, or the folder `cluster export` wrote (its run/ is used)',
    '  --name RUN                   the name it has in the workspace (a link runs/RUN → the folder)',
    '  --workspace DIR'
  ].join('\n'),
  options: optionSpec(['name', 'workspace']),
  async run(values, positionals) {
    const name = str(values, 'name')
    if (positionals.length !== 1 || !name) throw new UsageError('give the run folder and --name RUN: equiav cluster attach DIR --name RUN')
    const r = await attachRun(resolveWorkspace(str(values, 'workspace')), positionals[0], name)
    process.stderr.write(`run ${r.name} attached: it trains in ${r.target}\n`)
    return 0
  }
}
