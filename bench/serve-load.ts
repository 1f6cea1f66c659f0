/**
 * `equiav serve` under load while a `tiny` pretraining job trains in its engine process: N mixed API calls
 * sent open-loop (at a fixed rate, not waiting for replies) over S seconds, half of them catalog reads on
 * a dataset of C synthetic clips. Prints latency percentiles, errors, the steps the job trained meanwhile,
 * and one JSON line; writes bench/results/serve-load-<date>.json.
 * It first sends 50 calls one at a time (warm-up: the first call of a kind opens the catalog and compiles
 * its code path), reported apart from the measured open loop.
 * Usage: npx tsx bench/serve-load.ts [--calls 2000] [--seconds 20] [--clips 100000] [--workspace DIR]
 *
 * Catalog reads (half the calls): pages of 200 clips continuing a scroll (40%), a page at a random offset
 * with a random filter (30%), datasets.info (10%), datasets.clip (10%), datasets.list (10%). The other half:
 * jobs.list, runs.list, runs.metrics of the training run, app.info and train.estimate, in turn.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Catalog, type ClipRecord } from '../src/main/data/catalog'

const here = dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({ options: { calls: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '20' }, clips: { type: 'string', default: '100000' }, workspace: { type: 'string' } } })
const calls = Number(values.calls)
const seconds = Number(values.seconds)
const clips = Number(values.clips)
/** sequential calls before the measured open loop */
const WARMUP_CALLS = 50
const workspace = values.workspace ? resolve(values.workspace) : mkdtempSync(join(tmpdir(), 'equiav-serve-load-'))

/** A dataset of synthetic clip records (no media: the catalog is what is read). */
function buildDataset(): void {
  const c = Catalog.open(join(workspace, 'datasets', 'big'))
  try {
    if (c.count() >= clips) return
    c.setClasses(Array.from({ length: 10 }, (_, k) => `class ${k}`))
    for (let from = 0; from < clips; from += 10_000) {
      const batch: ClipRecord[] = []
      for (let i = from; i < Math.min(clips, from + 10_000); i++) {
        const status = i % 50 === 0 ? 'quarantined' : 'ok'
        batch.push({
          id: `clips/${String(i).padStart(7, '0')}.mp4`, path: `/data/clips/${i}.mp4`, size: 1000 + i, mtimeMs: 0, duration: 2 + (i % 9),
          audio: 'aac 44100 Hz 1 ch', video: 'h264 64×48 10.00 fps', labels: [i % 10, (i * 7) % 10], split: i % 5 === 0 ? 'test' : 'train',
          status, reason: status === 'ok' ? null : 'corrupt', detail: null, hash: `h${i}`, excluded: i % 97 === 0
        })
      }
      c.upsert(batch)
    }
  } finally {
    c.close()
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, ms = 300_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const got = await probe()
    if (got) return got
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** CPU seconds a process has used (Linux /proc), or NaN elsewhere. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // utime + stime, in clock ticks of 1/100 s
  } catch {
    return NaN
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

async function main(): Promise<void> {
  const t0 = Date.now()
  buildDataset()
  console.error(`dataset of ${clips} clips ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${workspace})`)
  const server: ChildProcess = spawn(process.execPath, [join(here, '../bin/equiav.mjs'), 'serve', '--workspace', workspace], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  server.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  try {
    const url = new URL(await until('the server URL', () => /^http:\S+/m.exec(out)?.[0]))
    const headers = { authorization: `Bearer ${url.searchParams.get('token')}`, 'content-type': 'application/json' }
    const call = async (method: string, input: unknown): Promise<{ ok: boolean; ms: number; status: number; body: unknown }> => {
      const start = performance.now()
      try {
        const r = await fetch(`${url.origin}/api/${method}`, { method: 'POST', headers, body: JSON.stringify(input) })
        const body = (await r.json()) as unknown
        return { ok: r.ok, ms: performance.now() - start, status: r.status, body }
      } catch (err) {
        return { ok: false, ms: performance.now() - start, status: 0, body: String(err) }
      }
    }

    const run = `load-${Date.now()}`
    const started = await call('jobs.start', { kind: 'pretrain', args: { run, preset: 'tiny', steps: 100_000, batchSize: 16, checkpointEvery: 100_000, syntheticClips: 256, timeRoll: false } })
    if (!started.ok) throw new Error(`jobs.start: ${JSON.stringify(started.body)}`)
    const jobId = (started.body as { id: string }).id
    const metrics = join(workspace, 'runs', run, 'metrics.jsonl')
    const trained = (): number => {
      try {
        return readFileSync(metrics, 'utf8').split('\n').filter((l) => l.trim()).length
      } catch {
        return 0
      }
    }
    await until('the first training step', () => trained() >= 1)
    const stepsBefore = trained()
    console.error(`training (step ${stepsBefore}); sending ${calls} calls over ${seconds} s`)

    let s = 7
    const rand = (n: number): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % n)
    let scroll = 0
    const filters = [{}, { status: 'ok' }, { split: 'test' }, { label: 3 }, { status: 'ok', split: 'train', minDuration: 4 }]
    const others: [string, unknown][] = [['jobs.list', {}], ['runs.list', {}], ['runs.metrics', { run }], ['app.info', {}], ['train.estimate', { task: 'pretrain', preset: 'tiny', batchSize: 16, dataset: 'big' }]]
    const plan = (i: number): [string, unknown, 'catalog' | 'other'] => {
      if (i % 2 === 1) return [...others[(i >> 1) % others.length], 'other']
      const r = rand(10)
      if (r < 4) {
        const offset = scroll
        scroll = (scroll + 200) % clips
        return ['datasets.clips', { dataset: 'big', offset, limit: 200 }, 'catalog']
      }
      if (r < 7) return ['datasets.clips', { dataset: 'big', offset: rand(clips), limit: 200, filter: filters[rand(filters.length)] }, 'catalog']
      if (r < 8) return ['datasets.info', { dataset: 'big' }, 'catalog']
      if (r < 9) return ['datasets.clip', { dataset: 'big', clip: `clips/${String(rand(clips)).padStart(7, '0')}.mp4` }, 'catalog']
      return ['datasets.list', {}, 'catalog']
    }

    // warm-up, one call at a time: the first call of each kind opens the catalog and compiles its code path
    // (50–170 ms on this machine); reported apart, so the open-loop figures measure a running server
    const warmup: number[] = []
    for (let i = 0; i < WARMUP_CALLS; i++) {
      const [method, input] = plan(i)
      warmup.push((await call(method, input)).ms)
    }
    const interval = (seconds * 1000) / calls
    const load0 = loadavg()[0]
    const cpu0 = cpuSeconds(server.pid)
    const begin = performance.now()
    const pending: Promise<{ method: string; kind: string; ok: boolean; ms: number; status: number; body: unknown }>[] = []
    for (let i = 0; i < calls; i++) {
      const wait = begin + i * interval - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      const [method, input, kind] = plan(i)
      pending.push(call(method, input).then((r) => ({ method, kind, ...r })))
    }
    const results = await Promise.all(pending)
    const wall = (performance.now() - begin) / 1000
    const serverCpu = cpuSeconds(server.pid) - cpu0
    const load1 = loadavg()[0]
    const stepsDuring = trained() - stepsBefore
    const job = ((await call('jobs.list', {})).body as { id: string; state: string }[]).find((j) => j.id === jobId)
    await call('jobs.cancel', { id: jobId })

    const errors = results.filter((r) => !r.ok)
    const summary = (rs: typeof results): Record<string, number> => {
      const ms = rs.map((r) => r.ms).sort((a, b) => a - b)
      return { n: ms.length, p50: +pct(ms, 50).toFixed(1), p95: +pct(ms, 95).toFixed(1), p99: +pct(ms, 99).toFixed(1), max: +ms[ms.length - 1].toFixed(1) }
    }
    const report = {
      date: new Date().toISOString(),
      calls,
      seconds: +wall.toFixed(1),
      clips,
      errors: errors.length,
      firstErrors: errors.slice(0, 3).map((e) => `${e.method} ${e.status} ${JSON.stringify(e.body).slice(0, 200)}`),
      warmup: { calls: WARMUP_CALLS, first: +warmup[0].toFixed(1), max: +Math.max(...warmup).toFixed(1) },
      all: summary(results),
      catalogReads: summary(results.filter((r) => r.kind === 'catalog')),
      others: summary(results.filter((r) => r.kind === 'other')),
      byMethod: Object.fromEntries([...new Set(results.map((r) => r.method))].map((m) => [m, summary(results.filter((r) => r.method === m))])),
      training: { stepsDuring, stateAfter: job?.state },
      // how much of the machine the server itself used, and how busy the machine was (its cores are shared)
      serverCpuSeconds: +serverCpu.toFixed(2),
      loadAverage: [+load0.toFixed(1), +load1.toFixed(1)]
    }
    console.log(`warm-up: ${WARMUP_CALLS} calls one at a time, slowest ${report.warmup.max} ms`)
    console.log(`${calls} calls in ${report.seconds} s, ${report.errors} errors; p50 ${report.all.p50} ms, p95 ${report.all.p95} ms, p99 ${report.all.p99} ms, max ${report.all.max} ms`)
    console.log(`catalog reads p99 ${report.catalogReads.p99} ms, other calls p99 ${report.others.p99} ms; the job trained ${stepsDuring} steps meanwhile (${job?.state})`)
    console.log(`the server used ${report.serverCpuSeconds} CPU s for the ${calls} calls; load average ${report.loadAverage.join(' → ')} on ${availableParallelism()} cores`)
    console.log(JSON.stringify(report))
    mkdirSync(join(here, 'results'), { recursive: true })
    writeFileSync(join(here, 'results', `serve-load-${report.date.slice(0, 19).replace(/:/g, '')}.json`), JSON.stringify(report, null, 2) + '\n')
    await until('the job to stop', async () => {
      const j = ((await call('jobs.list', {})).body as { id: string; state: string }[]).find((x) => x.id === jobId)
      return j && j.state !== 'running' && j.state !== 'queued'
    }, 60_000)
  } finally {
    server.kill('SIGTERM')
    if (!values.workspace) setTimeout(() => rmSync(workspace, { recursive: true, force: true }), 1000)
  }
}

main().catch((err: Error) => {
  console.error(err.message)
  process.exit(1)
})
