/**
 * The cluster side of `equiav cluster export`: the launch scripts (one node with torchrun, several with
 * Slurm), the Python requirements and a README. Pure text; export.ts writes them.
 */

export interface ScriptSettings {
  /** run name (Slurm job name) */
  run: string
  /** where the run folder lives on the cluster; default: run/ beside the scripts */
  runDir?: string
  /** the CAV-MAE export on the cluster; default: data/ beside the scripts */
  data?: string
}

/** A path inside a double-quoted shell word: \\, ", $ and ` escaped. */
const quoted = (value: string): string => value.replace(/[\\"$`]/g, (c) => `\\${c}`)

function common(s: ScriptSettings, here: string): string {
  return [
    `PYTHON="\${PYTHON:-python3}"`,
    `RUN_DIR="\${RUN_DIR:-${s.runDir ? quoted(s.runDir) : `${here}/run`}}"`,
    `DATA="\${DATA:-${s.data ? quoted(s.data) : `${here}/data`}}"`
  ].join('\n')
}

/**
 * torchrun of torch 1.x on Python ≥ 3.11 cannot parse its own default --redirects/--tee "0" (the enum lookup
 * misses Std.NONE); explicit non-zero values avoid it: workers' stdout to torchrun's log files, stderr (the
 * trainer's log) to the console as well.
 */
/**
 * The rendezvous store's read timeout (torchrun's default 60 s): a node busy with other work (or CI's 2 loaded
 * cores) can take longer to answer, and the rendezvous then fails with "Broken pipe".
 */
const RDZV_CONF = '--rdzv_conf read_timeout=600'

const TORCHRUN_QUIRK = `QUIRK="$("$PYTHON" -c 'import sys, torch; print("--redirects 1 --tee 2" if torch.__version__.startswith("1.") and sys.version_info >= (3, 11) else "")')"`

/** The run folder starts as the exported one (config.json, and a desktop run's checkpoint when one was exported). */
const seedRunDir = (here: string): string =>
  [
    'mkdir -p "$RUN_DIR"',
    `if [ ! -f "$RUN_DIR/config.json" ]; then cp -R "${here}/run/." "$RUN_DIR/"; fi`,
    `export PYTHONPATH="${here}/trainer\${PYTHONPATH:+:$PYTHONPATH}"`
  ].join('\n')

export function torchrunScript(s: ScriptSettings): string {
  return `#!/usr/bin/env bash
# EquiAV run "${s.run}" on one node: torchrun with N processes (default: every GPU; 2 CPU processes with gloo
# where there is none). Written by \`equiav cluster export\`.
#   ./launch-torchrun.sh [--nproc-per-node N] [--run-dir DIR] [--data DIR] [trainer options, e.g. --steps 20000]
# PYTHON (default python3) must import torch, torchaudio, numpy and PIL (requirements.txt).
set -euo pipefail
HERE="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
${common(s, '$HERE')}
NPROC=""
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --nproc-per-node|--nproc_per_node) NPROC="$2"; shift 2 ;;
    --nproc-per-node=*|--nproc_per_node=*) NPROC="\${1#*=}"; shift ;;
    --run-dir) RUN_DIR="$2"; shift 2 ;;
    --data) DATA="$2"; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
if [ -z "$NPROC" ]; then
  GPUS="$("$PYTHON" -c 'import torch; print(torch.cuda.device_count())')"
  if [ "$GPUS" -gt 0 ]; then NPROC="$GPUS"; else NPROC=2; fi
fi
${seedRunDir('$HERE')}
${TORCHRUN_QUIRK}
# shellcheck disable=SC2086
exec "$PYTHON" -m torch.distributed.run --standalone --nnodes 1 --nproc_per_node "$NPROC" ${RDZV_CONF} $QUIRK \\
  -m equiav_trainer --run-dir "$RUN_DIR" --data "$DATA" \${ARGS[@]+"\${ARGS[@]}"}
`
}

export function sbatchScript(s: ScriptSettings): string {
  return `#!/usr/bin/env bash
#SBATCH --job-name=equiav-${s.run}
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=32
#SBATCH --time=48:00:00
#SBATCH --output=%x-%j.out
# EquiAV run "${s.run}" on several nodes: one srun task per node, each a torchrun over the node's GPUs,
# joined by a c10d rendezvous on the first node. Written by \`equiav cluster export\`; edit the #SBATCH lines
# for your cluster, then from this folder: sbatch launch.sbatch [trainer options, e.g. --steps 20000]
# The global batch (config.json batchSize) is split over every process: it must be a multiple of their count.
set -euo pipefail
HERE="\${SLURM_SUBMIT_DIR:-$(pwd)}"
${common(s, '$HERE')}
GPUS_PER_NODE="\${GPUS_PER_NODE:-\${SLURM_GPUS_ON_NODE:-8}}"
HEAD="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"
${seedRunDir('$HERE')}
${TORCHRUN_QUIRK}
# shellcheck disable=SC2086
srun --kill-on-bad-exit=1 "$PYTHON" -m torch.distributed.run --nnodes "$SLURM_NNODES" --nproc_per_node "$GPUS_PER_NODE" $QUIRK \\
  --rdzv_id "$SLURM_JOB_ID" --rdzv_backend c10d --rdzv_endpoint "$HEAD:29500" ${RDZV_CONF} \\
  -m equiav_trainer --run-dir "$RUN_DIR" --data "$DATA" "$@"
`
}

export const REQUIREMENTS = `# The EquiAV trainer (trainer/equiav_trainer); Python >= 3.10. Debian/Ubuntu: python3-torch python3-torchaudio python3-numpy python3-pil
torch>=1.13
torchaudio>=0.13
numpy
pillow
`

export function clusterReadme(s: ScriptSettings & { clips: number; steps: number; batch: number; continued: number | null }): string {
  return `# EquiAV run "${s.run}" for a cluster

Written by \`equiav cluster export\`. Everything the cluster needs is in this folder:

| path | what |
|---|---|
| \`run/\` | the run folder: \`config.json\` (model, objective, batch ${s.batch}, ${s.steps} steps, seed, input statistics)${s.continued !== null ? `, and the desktop run's checkpoint at step ${s.continued}, which training continues from` : ''} |
| \`data/\` | the dataset in CAV-MAE layout (\`train.json\`, \`audio/*.wav\` 16 kHz, \`frames/frame_0..9/*.jpg\`), ${s.clips} training clips${s.data ? ` — not copied here: the scripts read ${s.data}` : ''} |
| \`trainer/equiav_trainer/\` | the PyTorch trainer (DDP; fp16 autocast + gradient scaler on CUDA, fp32 on CPU with gloo) |
| \`launch-torchrun.sh\` | one node: \`./launch-torchrun.sh [--nproc-per-node N]\` (default: every GPU, else 2 CPU processes) |
| \`launch.sbatch\` | several nodes: \`sbatch launch.sbatch\` (srun + torchrun rendezvous; edit its #SBATCH lines) |
| \`requirements.txt\` | \`pip install -r requirements.txt\` (torch ≥ 1.13 or 2.x, torchaudio, numpy, pillow) |

1. Copy this folder to the cluster (\`rsync -a\`), or export it straight onto a shared file system.
2. Install the requirements; set \`PYTHON\` if \`python3\` is not the interpreter that has them.
3. Start: \`./launch-torchrun.sh\` or \`sbatch launch.sbatch\`. Trainer options go after the script's own:
   \`--steps N\` (the run's total steps), \`--checkpoint-every N\`, \`--keep-checkpoints N\`, \`--workers N\` (loader processes per rank).
4. The run folder (${s.runDir ?? 'run/ here'}) gets \`metrics.jsonl\` and \`checkpoints/step-N/\` in the workbench's format. Starting the
   same command again resumes from the newest checkpoint, with the same data order and step count.
5. On the desktop: \`equiav cluster attach <this folder or the run folder> --name ${s.run}\` (the folder must be reachable: a shared
   or synced file system). The Runs view then follows its curves; retrieval, embeddings, fine-tuning and \`equiav pretrain --resume\`
   use its checkpoints like those of a local run.

The global batch (${s.batch}) is split over all processes, so it must be a multiple of their number. The data loaders place the
datafile's absolute paths first and fall back to \`data/audio\` and \`data/frames\` beside \`train.json\` when the data moved.
`
}
