import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Command, optionSpec, UsageError, int, num, parseFlags, str } from '../command'
import { withTerminalJob } from '../job-context'
import { checkName, resolveWorkspace, runDir } from '../../main/workspace'
import { writeFileAtomic } from '../../main/util/atomic'
import type { MetricsRow } from '../../main/engine/train/pretrain'
import { runEmbeddingKind } from '../../main/runs/embeddings'
import { runPretrainRequest } from '../../main/workflows/pretrain'
import { type Objective, PretrainRequestSchema } from '../../shared/requests'
import { runRetrievalEval } from './eval'

interface Variant {
  name: string
  objective: Objective
  cenNum?: number
}

/** The paper's pre-training-method and S ablations (../shared/EQUIAV.md §6), at one budget and seed. */
const VARIANTS: Variant[] = [
  { name: 'equiav-S16', objective: 'equiav', cenNum: 16 },
  { name: 'equiav-S4', objective: 'equiav', cenNum: 4 },
  { name: 'equiav-S1', objective: 'equiav', cenNum: 1 },
  { name: 'invariant', objective: 'invariant' },
  { name: 'inter-only', objective: 'inter-only' }
]

export const experimentAblationCommand: Command = {
  path: ['experiment', 'ablation'],
  summary: 'pretrain the equiav / invariant / inter-only objectives and S ∈ {1, 4, 16} at one budget, evaluate, tabulate',
  usage: [
    '  --dataset NAME       a prepared dataset (prepared for --preset)',
    '  --preset tiny        (default tiny)',
    '  --steps N            pretraining steps per variant (default 150)',
    '  --seed N             (default 0)',
    '  --lr LR              peak learning rate of every variant (default: pretrain\'s)',
    '  --no-time-roll       keep the audio in place (pretrain --no-time-roll), e.g. for the demo',
    '  --prefix P           run names are P-<variant> (default ablation)',
    '  --out FILE.md        also write the table here (a .json is written beside it)',
    '  --workspace DIR',
    'Finished variants are not retrained: a rerun resumes.'
  ].join('\n'),
  options: optionSpec(['dataset', 'preset', 'steps', 'seed', 'lr', 'prefix', 'out', 'workspace'], ['no-time-roll']),
  async run(values) {
    const dataset = str(values, 'dataset')
    if (!dataset) throw new UsageError('--dataset NAME is required')
    const workspace = resolveWorkspace(str(values, 'workspace'))
    const preset = str(values, 'preset')
    const steps = int(values, 'steps') ?? 150
    const seed = int(values, 'seed') ?? 0
    const prefix = checkName('run', str(values, 'prefix') ?? 'ablation')
    const rows: Record<string, unknown>[] = []
    for (const v of VARIANTS) {
      const run = `${prefix}-${v.name}`
      process.stderr.write(`\n▶ ${run}: objective ${v.objective}${v.cenNum ? `, S = ${v.cenNum}` : ''}, ${steps} steps\n`)
      const request = parseFlags(PretrainRequestSchema, {
        run,
        dataset,
        preset,
        objective: v.objective,
        cenNum: v.cenNum,
        steps,
        seed,
        lr: num(values, 'lr'),
        timeRoll: !values['no-time-roll'],
        resume: true
      })
      if ((await withTerminalJob('pretrain', (ctx) => runPretrainRequest(workspace, request, ctx))).cancelled) return 130
      // the centroid needs a trained predictor: each run's own embedding (centroid for equiav, else mean-pooled)
      const embedding = await runEmbeddingKind(workspace, run)
      const r = await runRetrievalEval({ workspace, run, dataset, split: 'test', kind: embedding, seed }, true)
      const metrics = (await readFile(join(runDir(workspace, run), 'metrics.jsonl'), 'utf8')).trim().split('\n')
      const last = JSON.parse(metrics[metrics.length - 1]) as MetricsRow
      rows.push({ variant: v.name, objective: v.objective, S: v.cenNum ?? null, embedding, steps, final_loss_inter: last.loss_inter, final_spread_a: last.spread_a ?? null, final_spread_v: last.spread_v ?? null, n: r.n, a2v: r.a2v, v2a: r.v2a })
    }
    const pct = (x: number): string => x.toFixed(1)
    const spread = (x: unknown): string => (typeof x === 'number' ? x.toFixed(3) : '–')
    const md = [
      `# Ablation on dataset "${dataset}" (${preset ?? 'tiny'} preset, ${steps} steps, seed ${seed}, ${rows[0].n} test clips; chance R@1 ${pct(100 / Number(rows[0].n))}%)`,
      '',
      '| variant | objective | S | retrieval embedding | V→A R@1 | V→A R@5 | V→A R@10 | A→V R@1 | A→V R@5 | A→V R@10 | median rank V→A / A→V | final loss_inter | final spread A / V |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...rows.map((r) => {
        const a2v = r.a2v as Record<string, number>
        const v2a = r.v2a as Record<string, number>
        return `| ${r.variant} | ${r.objective} | ${r.S ?? '–'} | ${r.embedding} | ${pct(v2a['R@1'])} | ${pct(v2a['R@5'])} | ${pct(v2a['R@10'])} | ${pct(a2v['R@1'])} | ${pct(a2v['R@5'])} | ${pct(a2v['R@10'])} | ${v2a.median_rank} / ${a2v.median_rank} | ${Number(r.final_loss_inter).toFixed(3)} | ${spread(r.final_spread_a)} / ${spread(r.final_spread_v)} |`
      })
    ].join('\n')
    process.stdout.write(md + '\n')
    const out = str(values, 'out')
    if (out) {
      await mkdir(join(out, '..'), { recursive: true })
      await writeFileAtomic(out, md + '\n')
      await writeFileAtomic(out.replace(/\.md$/, '') + '.json', JSON.stringify(rows, null, 1) + '\n')
    }
    return 0
  }
}
