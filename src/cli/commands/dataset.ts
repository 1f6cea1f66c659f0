import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Command, UsageError, num, int, str } from '../command'
import { terminalJobContext } from '../job-context'
import { checkName, datasetDir, resolveWorkspace } from '../../main/workspace'
import { Catalog } from '../../main/data/catalog'
import { importFolder } from '../../main/data/importers/folder'
import { openDataset } from '../../main/data/datasets'

const openExisting = openDataset

function reportLines(c: Catalog): string {
  const n = c.counts()
  const reasons = Object.entries(n.byReason).map(([r, k]) => `${r} ${k}`)
  const splits = Object.entries(n.bySplit).map(([s, k]) => `${s} ${k}`)
  return `${n.total} files: ${n.ok} ok (${splits.join(', ') || 'no split'}), ${n.quarantined} quarantined${reasons.length ? ` (${reasons.join(', ')})` : ''}`
}

export const datasetImportCommand: Command = {
  path: ['dataset', 'import'],
  summary: 'import a folder of media into a dataset (labels from sub-folder names)',
  usage: [
    '  --from DIR           folder to import; files in sub-folders get the sub-folder name as label',
    '  --name NAME          dataset name',
    '  --test-fraction X    share of each class assigned to the test split (default 0.2)',
    '  --seed N             split seed (default 0)',
    '  --workspace DIR      (default $EQUIAV_WORKSPACE or ~/EquiAV)',
    '  --json               print the dataset summary as JSON on stdout',
    'Unusable files are quarantined with a reason; re-running skips files already imported unchanged.'
  ].join('\n'),
  options: {
    from: { type: 'string' },
    name: { type: 'string' },
    'test-fraction': { type: 'string' },
    seed: { type: 'string' },
    workspace: { type: 'string' },
    json: { type: 'boolean' }
  },
  async run(values) {
    const from = str(values, 'from')
    const name = str(values, 'name')
    if (!from || !name) throw new UsageError('--from DIR and --name NAME are required')
    if (!existsSync(from)) throw new Error(`${from}: no such folder`)
    const workspace = resolveWorkspace(str(values, 'workspace'))
    const catalog = Catalog.open(datasetDir(workspace, checkName('dataset', name)))
    const { ctx, dispose } = terminalJobContext('import')
    try {
      catalog.setMeta('source', `folder ${resolve(from)}`)
      await importFolder({
        root: resolve(from),
        catalog,
        testFraction: num(values, 'test-fraction'),
        seed: int(values, 'seed'),
        signal: ctx.signal,
        onProgress: (p) => ctx.progress({ done: p.done, total: p.total, unit: 'files' })
      })
      if (ctx.signal.aborted) {
        process.stderr.write('stopped; run the same command again to resume\n')
        return 130
      }
      if (values.json) process.stdout.write(JSON.stringify({ name, counts: catalog.counts() }) + '\n')
      process.stderr.write(`dataset "${name}": ${reportLines(catalog)}\n`)
      return 0
    } finally {
      dispose()
      catalog.close()
    }
  }
}

export const datasetInfoCommand: Command = {
  path: ['dataset', 'info'],
  summary: 'show a dataset: counts, and with --json every clip with its status and reason',
  usage: ['  --name NAME', '  --workspace DIR', '  --json    {"name","classes","clips":[{"id","path","status","reason"?,"labels","split"}],"counts":{...}}'].join('\n'),
  options: { name: { type: 'string' }, workspace: { type: 'string' }, json: { type: 'boolean' } },
  async run(values) {
    const name = str(values, 'name')
    if (!name) throw new UsageError('--name NAME is required')
    const catalog = openExisting(resolveWorkspace(str(values, 'workspace')), name)
    try {
      if (values.json) {
        const clips = catalog.list().map((c) => ({
          id: c.id,
          path: c.path,
          status: c.status,
          ...(c.reason ? { reason: c.reason, detail: c.detail } : {}),
          labels: c.labels,
          split: c.split,
          ...(c.excluded ? { excluded: true } : {})
        }))
        process.stdout.write(JSON.stringify({ name, classes: catalog.classes(), clips, counts: catalog.counts() }) + '\n')
      } else {
        process.stdout.write(`dataset "${name}": ${reportLines(catalog)}\nclasses: ${catalog.classes().join(', ') || '(none)'}\n`)
        for (const c of catalog.list({ status: 'quarantined' })) process.stdout.write(`  quarantined ${c.id}: ${c.reason} — ${c.detail}\n`)
      }
      return 0
    } finally {
      catalog.close()
    }
  }
}

export const datasetEditCommand: Command = {
  path: ['dataset', 'edit'],
  summary: 'relabel a clip, move it to another split, or exclude it from training',
  usage: [
    '  --name NAME          dataset name',
    '  --clip ID            the clip (ids as `dataset info` lists them)',
    '  --labels A,B         class names or indices, primary label first',
    '  --split train|val|test',
    '  --exclude | --include',
    '  --workspace DIR'
  ].join('\n'),
  options: {
    name: { type: 'string' },
    clip: { type: 'string' },
    labels: { type: 'string' },
    split: { type: 'string' },
    exclude: { type: 'boolean' },
    include: { type: 'boolean' },
    workspace: { type: 'string' }
  },
  async run(values) {
    const name = str(values, 'name')
    const id = str(values, 'clip')
    if (!name || !id) throw new UsageError('--name NAME and --clip ID are required')
    if (values.exclude && values.include) throw new UsageError('give --exclude or --include, not both')
    const split = str(values, 'split')
    if (split !== undefined && !['train', 'val', 'test'].includes(split)) throw new UsageError('--split must be train, val or test')
    const catalog = openExisting(resolveWorkspace(str(values, 'workspace')), name)
    try {
      const classes = catalog.classes()
      const labels = str(values, 'labels')
        ?.split(',')
        .map((l) => l.trim())
        .map((l) => (classes.includes(l) ? classes.indexOf(l) : /^\d+$/.test(l) ? Number(l) : NaN))
      if (labels?.some(Number.isNaN)) throw new UsageError(`--labels: each label must be one of ${classes.join(', ')} or a class index`)
      const updated = catalog.edit(id, {
        ...(labels ? { labels } : {}),
        ...(split ? { split: split as 'train' | 'val' | 'test' } : {}),
        ...(values.exclude ? { excluded: true } : values.include ? { excluded: false } : {})
      })
      process.stdout.write(JSON.stringify({ id: updated.id, labels: updated.labels, split: updated.split, excluded: updated.excluded }) + '\n')
      return 0
    } finally {
      catalog.close()
    }
  }
}
