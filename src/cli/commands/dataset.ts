import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Command, choice, optionSpec, UsageError, num, int, str } from '../command'
import { stopped, withTerminalJob } from '../job-context'
import { resolveWorkspace } from '../../main/workspace'
import { SplitSchema } from '../../shared/contract'
import { exportCavMae, exportCsv } from '../../main/data/export'
import { describeCounts, describeManifest, IMPORT_FORMATS, importDataset } from '../../main/data/dataset-import'
import { openDataset } from '../../main/data/datasets'

const MANIFEST_FLAGS = IMPORT_FORMATS.map((f) => (f === 'folder' ? 'from' : f))

export const datasetImportCommand: Command = {
  path: ['dataset', 'import'],
  summary: 'import a folder of media, or an AudioSet / VGGSound / CAV-MAE manifest, into a dataset',
  usage: [
    '  --name NAME          dataset name',
    'one source:',
    '  --from DIR           folder of media; files in sub-folders get the sub-folder name as label',
    '  --audioset-csv F     AudioSet segments CSV (YTID, start_seconds, end_seconds, "mid,mid"); needs --labels',
    '  --vggsound-csv F     VGGSound CSV (YTID,start,label,train|test; no header); labels become the classes',
    '  --cavmae-json F      CAV-MAE / EquiAV datafile {"data":[{"video_id","wav","video_path","labels"}]}; needs --labels',
    'manifest options:',
    '  --labels F           class_labels_indices.csv (index,mid,display_name)',
    '  --split S            train|val|test for an AudioSet CSV or datafile (default: test if the file name',
    '                       holds "eval" or "test", else train); VGGSound rows carry their own',
    '  --media-root DIR     downloaded media, found by name (<YTID>_<start>.mp4, <YTID>.mkv, <video_id>.mp4…)',
    '  --no-probe           catalogue media that is found without opening it (fast; prepare reports bad files)',
    'folder options:',
    '  --test-fraction X    share of each class assigned to the test split (default 0.2)',
    '  --seed N             split seed (default 0)',
    '  --group-by REGEX     the first capture group of a file name names the recording it was cut from',
    "                       (e.g. '^(.+)_\\d+\\.mp4$'); every clip of a recording goes to the same split",
    '  --workspace DIR      (default $EQUIAV_WORKSPACE or ~/EquiAV)',
    '  --json               print the dataset summary as JSON on stdout',
    'Unusable files are quarantined with a reason; manifest rows whose media is not on disk are "missing"',
    '(not downloaded). A malformed manifest fails with file:line and the reason, before anything is written.',
    'Re-running resumes: files already imported unchanged, and manifest rows already present, are skipped.'
  ].join('\n'),
  options: optionSpec(['from', 'audioset-csv', 'vggsound-csv', 'cavmae-json', 'labels', 'split', 'media-root', 'name', 'test-fraction', 'seed', 'group-by', 'workspace'], ['no-probe', 'json']),
  async run(values) {
    const name = str(values, 'name')
    const given = MANIFEST_FLAGS.filter((f) => str(values, f) !== undefined)
    if (!name || given.length !== 1) throw new UsageError(`--name NAME and exactly one of ${MANIFEST_FLAGS.map((f) => `--${f}`).join(', ')} are required`)
    const flag = given[0]
    const input = resolve(str(values, flag)!)
    if (!existsSync(input)) throw new Error(`${input}: no such ${flag === 'from' ? 'folder' : 'file'}`)
    const mediaRoot = str(values, 'media-root')
    if (mediaRoot !== undefined && !existsSync(mediaRoot)) throw new Error(`${mediaRoot}: no such folder (--media-root)`)
    const split = choice(values, 'split', SplitSchema.options)
    const workspace = resolveWorkspace(str(values, 'workspace'))
    const spec = {
      format: flag === 'from' ? 'folder' : flag,
      from: input,
      labels: str(values, 'labels'),
      split,
      mediaRoot,
      probe: !values['no-probe'],
      testFraction: num(values, 'test-fraction'),
      seed: int(values, 'seed'),
      groupBy: str(values, 'group-by')
    } as const
    return withTerminalJob('import', (ctx) =>
      importDataset(workspace, name, spec, ctx, (catalog, { manifest, warnings, stopped: cancelled }) => {
        if (cancelled) return stopped()
        if (values.json) process.stdout.write(JSON.stringify({ name, ...(manifest ? { manifest } : {}), counts: catalog.counts() }) + '\n')
        if (manifest) process.stderr.write(`${describeManifest(input, manifest)}\n`)
        for (const w of warnings) process.stderr.write(`warning: ${w}\n`)
        process.stderr.write(`dataset "${name}": ${describeCounts(catalog)}\n`)
        return 0
      })
    )
  }
}

export const datasetExportCommand: Command = {
  path: ['dataset', 'export'],
  summary: 'export a dataset as CAV-MAE / EquiAV datafiles with extracted wav and frames, or as a CSV',
  usage: [
    '  --name NAME          dataset name',
    '  --format cavmae|csv  cavmae: <out>/audio/<id>.wav (16 kHz mono), <out>/frames/frame_0..9/<id>.jpg (224),',
    '                       <out>/<split>.json and class_labels_indices.csv, for every usable clip;',
    '                       csv: <out>/clips.csv (id,path,labels,split,status,reason,detail,excluded), every clip,\n                       labels as class names separated by ";"',
    '  --out DIR            output folder',
    '  --workspace DIR',
    '  --json               print a JSON summary on stdout',
    'Re-running a cavmae export resumes: clips whose wav and frames exist are not extracted again.'
  ].join('\n'),
  options: optionSpec(['name', 'format', 'out', 'workspace'], ['json']),
  async run(values) {
    const name = str(values, 'name')
    const format = str(values, 'format')
    const out = str(values, 'out')
    if (!name || !out) throw new UsageError('--name NAME, --format cavmae|csv and --out DIR are required')
    if (format !== 'cavmae' && format !== 'csv') throw new UsageError('--format must be cavmae or csv')
    const catalog = openDataset(resolveWorkspace(str(values, 'workspace')), name)
    try {
      return await withTerminalJob('export', async (ctx) => {
        if (format === 'csv') {
          const r = await exportCsv(catalog, out)
          if (values.json) process.stdout.write(JSON.stringify({ name, format, ...r }) + '\n')
          process.stderr.write(`${r.rows} clips written to ${r.file}\n`)
          return 0
        }
        const r = await exportCavMae({ catalog, out, signal: ctx.signal, onProgress: (p) => ctx.progress({ done: p.done, total: p.total, unit: 'clips' }) })
        if (r.stopped) return stopped()
        if (values.json) process.stdout.write(JSON.stringify({ name, format, ...r }) + '\n')
        process.stderr.write(
          `exported ${r.exported} clips (${r.reused} already there) to ${resolve(out)}; ${r.left} not usable or excluded, ${r.failed.length} failed to decode\n` +
            r.failed.map((f) => `  failed ${f.id}: ${f.reason} — ${f.detail}\n`).join('')
        )
        return 0
      })
    } finally {
      catalog.close()
    }
  }
}

export const datasetInfoCommand: Command = {
  path: ['dataset', 'info'],
  summary: 'show a dataset: counts, and with --json every clip with its status and reason',
  usage: ['  --name NAME', '  --workspace DIR', '  --json    {"name","classes","clips":[{"id","path","status","reason"?,"labels","split","group"?}],"counts":{...}}'].join('\n'),
  options: optionSpec(['name', 'workspace'], ['json']),
  async run(values) {
    const name = str(values, 'name')
    if (!name) throw new UsageError('--name NAME is required')
    const catalog = openDataset(resolveWorkspace(str(values, 'workspace')), name)
    try {
      if (values.json) {
        const clips = catalog.list().map((c) => ({
          id: c.id,
          path: c.path,
          status: c.status,
          ...(c.reason ? { reason: c.reason, detail: c.detail } : c.status === 'missing' ? { detail: c.detail } : {}),
          labels: c.labels,
          split: c.split,
          ...(c.group ? { group: c.group } : {}),
          ...(c.excluded ? { excluded: true } : {})
        }))
        process.stdout.write(JSON.stringify({ name, classes: catalog.classes(), clips, counts: catalog.counts() }) + '\n')
      } else {
        process.stdout.write(`dataset "${name}": ${describeCounts(catalog)}\nclasses: ${catalog.classes().join(', ') || '(none)'}\n`)
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
  options: optionSpec(['name', 'clip', 'labels', 'split', 'workspace'], ['exclude', 'include']),
  async run(values) {
    const name = str(values, 'name')
    const id = str(values, 'clip')
    if (!name || !id) throw new UsageError('--name NAME and --clip ID are required')
    if (values.exclude && values.include) throw new UsageError('give --exclude or --include, not both')
    const split = choice(values, 'split', SplitSchema.options)
    const catalog = openDataset(resolveWorkspace(str(values, 'workspace')), name)
    try {
      const classes = catalog.classes()
      const labels = str(values, 'labels')
        ?.split(',')
        .map((l) => l.trim())
        .map((l) => (classes.includes(l) ? classes.indexOf(l) : /^\d+$/.test(l) ? Number(l) : NaN))
      if (labels?.some(Number.isNaN)) throw new UsageError(`--labels: each label must be one of ${classes.join(', ')} or a class index`)
      const updated = catalog.edit(id, {
        ...(labels ? { labels } : {}),
        ...(split ? { split } : {}),
        ...(values.exclude ? { excluded: true } : values.include ? { excluded: false } : {})
      })
      process.stdout.write(JSON.stringify({ id: updated.id, labels: updated.labels, split: updated.split, excluded: updated.excluded }) + '\n')
      return 0
    } finally {
      catalog.close()
    }
  }
}
