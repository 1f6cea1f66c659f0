import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { type Command, int, str } from '../command'
import { resolveWorkspace, runDir } from '../../main/workspace'

/**
 * The main job: build the demo dataset, prepare it, pretrain the tiny preset for a few minutes, and
 * evaluate zero-shot retrieval — each step the same command a researcher would type, so every step
 * resumes if the demo is interrupted and run again.
 */
export const demoCommand: Command = {
  path: ['demo'],
  summary: 'build the demo dataset, pretrain tiny EquiAV on it for a few minutes, and evaluate retrieval',
  usage: [
    '  --steps N            pretraining steps (default 150: about 5 minutes on one CPU core)',
    '  --clips N            demo clips, split 5:1 train/test (default 1440)',
    '  --objective O        equiav (default) | invariant | inter-only, as `equiav pretrain`',
    '  --workspace DIR      (default $EQUIAV_WORKSPACE or ~/EquiAV)',
    '  --no-serve           stop after the evaluation instead of serving the workbench',
    'Run it again to resume where it stopped. The README\'s 30-minute run: --clips 7200 --objective inter-only --steps 1800.'
  ].join('\n'),
  options: { steps: { type: 'string' }, clips: { type: 'string' }, objective: { type: 'string' }, workspace: { type: 'string' }, 'no-serve': { type: 'boolean' } },
  async run(values) {
    const { main } = await import('../index')
    const workspace = resolveWorkspace(str(values, 'workspace'))
    const ws = ['--workspace', workspace]
    const steps = String(int(values, 'steps') ?? 150)
    const clips = int(values, 'clips')
    const objective = str(values, 'objective')
    const say = (line: string): boolean => process.stderr.write(`\n▶ ${line}\n`)
    say(`1/5 building the demo dataset in ${workspace}/datasets/demo`)
    let code = await main(['dataset', 'create-demo', '--name', 'demo', ...(clips ? ['--clips', String(clips)] : []), ...ws])
    if (code !== 0) return code
    say("2/5 the dataset's own input statistics (fbank and frame mean / std)")
    code = await main(['dataset', 'norm-stats', '--name', 'demo', '--preset', 'tiny', '--clips', '240', '--keep', ...ws])
    if (code !== 0) return code
    say('3/5 decoding every clip once into the preprocessing cache (fbank + frames)')
    code = await main(['dataset', 'prepare', '--name', 'demo', '--preset', 'tiny', ...ws])
    if (code !== 0) return code
    say(`4/5 pretraining EquiAV (tiny preset${objective ? `, ${objective} objective` : ''}) for ${steps} steps`)
    const resume = existsSync(join(runDir(workspace, 'demo'), 'config.json')) ? ['--resume'] : []
    // the demo's digits are spoken at fixed times, so the audio is not rolled; 2e-4 is the fastest
    // learning rate at which the tiny encoders do not collapse on it (README, "What to expect")
    const recipe = ['--lr', '2e-4', '--no-time-roll', ...(objective ? ['--objective', objective] : [])]
    code = await main(['pretrain', '--dataset', 'demo', '--preset', 'tiny', '--steps', steps, ...recipe, '--checkpoint-every', '25', '--run', 'demo', ...resume, ...ws])
    if (code !== 0) return code
    say('5/5 zero-shot retrieval on the test split')
    code = await main(['eval', 'retrieval', '--run', 'demo', '--dataset', 'demo', '--split', 'test', ...ws])
    if (code !== 0) return code
    process.stderr.write(
      `\nThe run is in ${runDir(workspace, 'demo')} (config.json, metrics.jsonl, checkpoints/, retrieval-*.json).\n` +
        'Next: `equiav eval probe --run demo --dataset demo --modality visual` (the probe against random init), the\n' +
        "README's 30-minute run (`equiav demo --clips 7200 --objective inter-only --steps 1800` in a new workspace),\n" +
        'or `equiav --help`.\n'
    )
    if (values['no-serve']) return 0
    say('the workbench: open this URL in your browser (Ctrl-C to stop)')
    return main(['serve', ...ws])
  }
}
