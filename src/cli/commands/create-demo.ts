import { join } from 'node:path'
import { type Command, optionSpec, UsageError, int, str } from '../command'
import { stopped, withTerminalJob } from '../job-context'
import { checkName, resolveWorkspace } from '../../main/workspace'
import { DEMO_DEFAULTS, splitClipCount } from '../../main/data/demo'
import { buildDemoDataset } from '../../main/workflows/demo-dataset'

export const createDemoCommand: Command = {
  path: ['dataset', 'create-demo'],
  summary: 'build the demo dataset: handwritten three-digit numbers spoken by real voices',
  usage: [
    '  --name NAME          dataset name (default demo)',
    `  --clips N            clips in all, split 5:1 into train and test (default ${DEMO_DEFAULTS.clips.train + DEMO_DEFAULTS.clips.test})`,
    '  --seed N             (default 0)',
    '  --voices A,B         the recorded voices, ids from resources/demo/sources.json (default: the demo\'s)',
    '  --synthetic-voices   also use the espeak-ng machine voices',
    '  --workspace DIR      (default $EQUIAV_WORKSPACE or ~/EquiAV)',
    '  --json               print a JSON summary on stdout',
    'Re-running resumes: clips already written are kept, and so are your label, split and exclusion edits.'
  ].join('\n'),
  options: optionSpec(['name', 'clips', 'seed', 'voices', 'workspace'], ['synthetic-voices', 'json']),
  async run(values) {
    const name = checkName('dataset', str(values, 'name') ?? 'demo')
    const total = int(values, 'clips')
    if (total === 0) throw new UsageError('--clips must be at least 1')
    const clips = total === undefined ? DEMO_DEFAULTS.clips : splitClipCount(total)
    const workspace = resolveWorkspace(str(values, 'workspace'))
    const started = Date.now()
    return withTerminalJob('demo', async (ctx) => {
      try {
        const built = await buildDemoDataset(workspace, { name, clips, seed: int(values, 'seed') ?? DEMO_DEFAULTS.seed, voices: str(values, 'voices')?.split(','), synthetic: Boolean(values['synthetic-voices']) }, ctx)
        const summary = {
          name,
          mediaDir: built.mediaDir,
          manifest: join(built.mediaDir, 'manifest.json'),
          train: clips.train,
          test: clips.test,
          skipped: built.skipped,
          seconds: Number(((Date.now() - started) / 1000).toFixed(1))
        }
        if (values.json) process.stdout.write(JSON.stringify(summary) + '\n')
        else process.stderr.write(`demo "${name}": ${built.clips} clips (${summary.skipped} already there) in ${built.mediaDir}\n`)
        return 0
      } catch (err) {
        if (ctx.signal.aborted) return stopped()
        throw err
      }
    })
  }
}
