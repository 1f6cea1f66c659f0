/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The Datasets view in Chromium against `equiav serve`: a folder with a broken file imported as a job and
 * its quarantine report; the clip inspector (frames, spectrogram with its patch grid, augmentation
 * preview, relabel); an AudioSet CSV manifest imported with one row's media missing; and a 100,000-row catalog scrolled in the virtual table while a pretraining job runs
 * (frame times and API latency printed, not asserted).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Catalog, type ClipRecord } from '../../src/main/data/catalog'
import { createMediaDir, type MediaDir } from '../helpers/media'
import { type Workbench, openWorkbench, tempWorkspace } from './harness'

let wb: Workbench
let media: MediaDir
let folder: string
let windows: string
const BIG = 100_000

beforeAll(async () => {
  media = createMediaDir('equiav-e2e-media-')
  folder = join(media.dir, 'birds-and-bells')
  mkdirSync(join(folder, 'bell'), { recursive: true })
  mkdirSync(join(folder, 'bird'), { recursive: true })
  const made = await media.makeAll([
    { name: 'b1.mp4', duration: 1, audio: { frequencies: [660] } },
    { name: 'b2.mp4', duration: 1.5, video: { color: 'red' }, audio: { frequencies: [1320] } },
    { name: 'w1.mp4', duration: 1, video: { color: '0x3366CC' }, audio: { frequencies: [300] } }
  ])
  renameSync(made[0], join(folder, 'bell', 'b1.mp4'))
  renameSync(made[1], join(folder, 'bell', 'b2.mp4'))
  renameSync(made[2], join(folder, 'bird', 'w1.mp4'))
  renameSync(await media.broken('text', 'x.mp4'), join(folder, 'bird', 'broken.mp4'))
  // windows cut from two recordings, each its own tone
  windows = join(media.dir, 'windows')
  mkdirSync(windows)
  const cut = await media.makeAll(Array.from({ length: 6 }, (_, i) => ({ name: `rec${Math.floor(i / 3)}_${i % 3}.mp4`, duration: 0.5, audio: { frequencies: [300 + 90 * i] } })))
  for (const p of cut) renameSync(p, join(windows, p.split('/').pop()!))

  const workspace = tempWorkspace()
  // a large catalog, written directly: the table must stay smooth at this size
  const big = Catalog.open(join(workspace, 'datasets', 'big'))
  big.setClasses(Array.from({ length: 50 }, (_, i) => `class-${i}`))
  const rows: ClipRecord[] = Array.from({ length: BIG }, (_, i) => ({
    id: `c${String(i).padStart(6, '0')}.mp4`,
    path: `/nowhere/c${i}.mp4`,
    size: 1000,
    mtimeMs: 0,
    duration: 1 + (i % 10),
    audio: 'aac 44100 Hz 1 ch',
    video: 'h264 64×48 10.00 fps',
    labels: [i % 50],
    split: i % 5 === 0 ? 'test' : 'train',
    status: 'ok',
    reason: null,
    detail: null,
    hash: String(i),
    excluded: false
  }))
  big.upsert(rows)
  big.close()
  wb = await openWorkbench(workspace)
}, 180_000)

afterAll(async () => {
  await wb?.close()
  media?.cleanup()
})

describe('Datasets view (serve mode, Chromium)', () => {
  it('imports a folder with a broken file, reports it quarantined, and inspects and relabels a clip', async () => {
    const page = await wb.browser.newPage({ viewport: { width: 1400, height: 1000 } })
    await page.goto(wb.url)
    await page.getByTestId('nav').getByText('Datasets', { exact: true }).click()
    await page.fill('input[name=import-dataset]', 'birds')
    await page.fill('input[name=import-from]', folder)
    await page.click('[data-testid=import-form] button[type=submit]')
    await page.getByTestId('import-status').getByText(/done/).waitFor({ timeout: 60_000 })
    await page.getByTestId('import-status').getByText('4/4 files').waitFor()

    // the finished import selects its dataset: counts, and the broken file with its reason
    const report = page.getByTestId('quarantine-report')
    await report.getByText('bird/broken.mp4').waitFor({ timeout: 10_000 })
    await expect(report.textContent()).resolves.toMatch(/not-media/)
    await page.getByTestId('datasets-table').getByText('birds', { exact: true }).waitFor()

    // ready for training: its own statistics, then the 3 usable clips into the tiny cache, as a job
    await page.getByTestId('prepare-form').getByText('Prepare for training').click()
    await page.getByTestId('prepare-status').getByText(/done/).waitFor({ timeout: 60_000 })
    await page.getByTestId('prepare-status').getByText('3/3 clips').waitFor()

    // filters: the quarantined file alone, then every clip again
    await page.selectOption('select[name=filter-status]', 'quarantined')
    await page.getByTestId('clip-table').getByText('bird/broken.mp4').waitFor()
    await expect(page.getByTestId('clip-table').locator('.row').count()).resolves.toBe(1)
    await page.selectOption('select[name=filter-status]', '')

    await page.getByTestId('clip-table').getByText('bell/b2.mp4').click()
    const inspector = page.getByTestId('clip-inspector')
    await inspector.getByRole('heading', { name: 'bell/b2.mp4' }).waitFor()
    // frames and spectrogram decoded and drawn (naturalWidth > 0 once loaded)
    const loaded = (sel: string): Promise<void> =>
      page.waitForFunction((s) => [...document.querySelectorAll<HTMLImageElement>(s)].every((i) => i.complete && i.naturalWidth > 0), sel, { timeout: 30_000 }).then(() => undefined)
    await loaded('[data-testid=clip-frames] img')
    await loaded('[data-testid=clip-spectrogram] img')
    expect(await page.locator('[data-testid=clip-spectrogram] img').evaluate((i: HTMLImageElement) => [i.naturalWidth, i.naturalHeight])).toEqual([304, 128])
    expect(await page.locator('[data-testid=clip-frames] img').count()).toBe(10)
    // the clip's own file plays (its duration read from the stream), and its decoded audio too
    await page.waitForFunction(() => {
      const v = document.querySelector<HTMLVideoElement>('[data-testid=clip-video]')
      const a = document.querySelector<HTMLAudioElement>('[data-testid=clip-audio]')
      return v !== null && a !== null && v.readyState >= 1 && a.readyState >= 1
    }, undefined, { timeout: 20_000 })
    expect(await page.locator('[data-testid=clip-video]').evaluate((v: HTMLVideoElement) => v.duration)).toBeCloseTo(1.5, 1)
    expect(await page.locator('[data-testid=clip-audio]').evaluate((a: HTMLAudioElement) => a.duration)).toBeGreaterThan(1.4)

    await inspector.getByRole('button', { name: 'Preview' }).click()
    const aug = page.getByTestId('augment-preview')
    await aug.getByText('cropWidth').first().waitFor({ timeout: 30_000 })
    await expect(aug.getByText('hflip').count()).resolves.toBe(2) // in t_a and t_v

    await inspector.locator('select[name=label]').selectOption({ label: 'bird' })
    await page.getByTestId('clip-table').locator('.row.active').getByText('bird, bell').waitFor()
  }, 150_000)

  it('imports windows of two recordings grouped by the form\'s regex: the group column, one split per recording', async () => {
    const page = await wb.browser.newPage({ viewport: { width: 1400, height: 1000 } })
    await page.goto(wb.url)
    await page.getByTestId('nav').getByText('Datasets', { exact: true }).click()
    const form = page.getByTestId('import-form')
    await form.locator('input[name=import-dataset]').fill('windows')
    await form.locator('input[name=import-from]').fill(windows)
    await form.locator('input[name=import-group-by]').fill('^(rec\\d)_')
    await form.locator('button[type=submit]').click()
    await page.getByTestId('import-report').getByText(/windows: 6 clips: 6 ok/).waitFor({ timeout: 60_000 })
    await expect(page.locator('.clip-table .head .c-group').textContent()).resolves.toBe('group')
    await page.getByTestId('clip-table').getByText('rec1_2.mp4').waitFor({ timeout: 10_000 })
    const rows = await page.getByTestId('clip-table').locator('.row').evaluateAll((els) =>
      els.map((e) => ({ group: e.querySelector('.c-group')?.textContent, split: e.querySelector('.c-split')?.textContent }))
    )
    expect(rows.map((r) => r.group)).toEqual(['rec0', 'rec0', 'rec0', 'rec1', 'rec1', 'rec1'])
    for (const g of ['rec0', 'rec1']) expect(new Set(rows.filter((r) => r.group === g).map((r) => r.split)).size).toBe(1)
  }, 90_000)

  it('imports an AudioSet CSV manifest: a row with media probed, a row without it missing, in the end report', async () => {
    writeFileSync(join(media.dir, 'labels.csv'), 'index,mid,display_name\n0,/m/bell,"Bell"\n1,/m/bird,"Bird"\n')
    writeFileSync(join(media.dir, 'eval_segments.csv'), '# YTID, start_seconds, end_seconds, positive_labels\nb1, 0.000, 10.000, "/m/bell"\nzz, 30.000, 40.000, "/m/bird,/m/bell"\n')
    const page = await wb.browser.newPage({ viewport: { width: 1400, height: 1000 } })
    await page.goto(wb.url)
    await page.getByTestId('nav').getByText('Datasets', { exact: true }).click()
    const form = page.getByTestId('import-form')
    await form.locator('select[name=import-format]').selectOption('audioset-csv')
    await form.locator('input[name=import-dataset]').fill('as-eval')
    await form.locator('input[name=import-from]').fill(join(media.dir, 'eval_segments.csv'))
    await form.locator('button[type=submit]').click()
    await expect(form.getByRole('alert').textContent()).resolves.toMatch(/labels: an AudioSet CSV or CAV-MAE datafile needs its class_labels_indices\.csv/)
    await form.locator('input[name=import-labels]').fill(join(media.dir, 'labels.csv'))
    await form.locator('input[name=import-media-root]').fill(join(folder, 'bell'))
    await form.locator('button[type=submit]').click()
    await page.getByTestId('import-report').getByText('as-eval: 2 clips: 1 ok (test 1), 0 quarantined, 1 missing (not downloaded)').waitFor({ timeout: 60_000 })
    await page.getByTestId('import-status').getByText('2/2 rows').waitFor()
  }, 90_000)

  it('scrolls a 100,000-clip table while a pretraining job runs (frame times and API latency printed)', async () => {
    const page = await wb.browser.newPage({ viewport: { width: 1400, height: 1000 } })
    await page.goto(wb.url)
    // a pretraining job to compete with, launched through the API from the page (cookie auth)
    const started = await page.evaluate(async () => {
      const r = await fetch('/api/jobs.start', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ kind: 'pretrain', args: { run: 'busy', steps: 40, batchSize: 2 } }) })
      return r.status
    })
    expect(started).toBe(200)
    await page.getByTestId('nav').getByText('Datasets', { exact: true }).click()
    await page.getByTestId('datasets-table').getByText('big', { exact: true }).click()
    await page.getByText(`${BIG.toLocaleString('en-US')} clips`).waitFor({ timeout: 20_000 })
    await page.waitForFunction(async () => {
      const r = await fetch('/api/jobs.list', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
      return ((await r.json()) as { state: string }[]).some((j) => j.state === 'running')
    })
    const rendered = await page.getByTestId('clip-table').locator('.row').count()
    expect(rendered).toBeLessThan(60) // only the visible rows are in the DOM

    // scroll in 2 s of animation frames, recording each frame's duration: the whole table (mostly rows
    // whose page is still loading), then 10 rows a frame from row 40,000 (rows loaded as they come)
    const scroll = (mode: 'whole' | 'steady'): Promise<{ deltas: number[]; longTasks: number; rows: number }> =>
      page.evaluate(async (m) => {
        const el = document.querySelector('[data-testid=clip-table]') as HTMLElement
        const deltas: number[] = []
        let longTasks = 0
        const observer = new PerformanceObserver((list) => (longTasks += list.getEntries().length))
        observer.observe({ type: 'longtask' })
        const start = m === 'whole' ? 0 : 40_000 * 28
        el.scrollTop = start
        let last = performance.now()
        const t0 = last
        await new Promise<void>((done) => {
          const step = (now: number): void => {
            deltas.push(now - last)
            last = now
            el.scrollTop = m === 'whole' ? ((now - t0) / 2000) * el.scrollHeight : start + deltas.length * 280
            if (now - t0 < 2000) requestAnimationFrame(step)
            else done()
          }
          requestAnimationFrame(step)
        })
        observer.disconnect()
        return { deltas: deltas.slice(1), longTasks, rows: el.querySelectorAll('.row').length }
      }, mode)
    const whole = await scroll('whole')
    const steady = await scroll('steady')
    expect(whole.rows).toBeLessThan(60)
    await page.getByTestId('clip-table').getByText(/^c0\d{5}\.mp4$/).first().waitFor()
    const latencies = await page.evaluate(async () => {
      const out: number[] = []
      for (let i = 0; i < 40; i++) {
        const t = performance.now()
        await fetch('/api/datasets.clips', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ dataset: 'big', offset: 50_000 + i * 200, limit: 200 }) })
        const u = performance.now()
        await fetch('/api/jobs.list', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
        out.push(u - t, performance.now() - u)
      }
      return out
    })
    const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]
    const pages = latencies.filter((_, i) => i % 2 === 0)
    const lists = latencies.filter((_, i) => i % 2 === 1)
    const fr = (f: typeof whole): string =>
      `n=${f.deltas.length} p50=${q(f.deltas, 0.5).toFixed(1)} p95=${q(f.deltas, 0.95).toFixed(1)} max=${Math.max(...f.deltas).toFixed(1)} ms, long tasks ${f.longTasks}`
    console.log(
      `[measure] frame times while a pretraining job runs, ${BIG}-row table: whole-table scroll ${fr(whole)}; 10 rows/frame ${fr(steady)}; ` +
        `API round trip: datasets.clips (200 rows at offset ≥50k) p50=${q(pages, 0.5).toFixed(1)} p95=${q(pages, 0.95).toFixed(1)} ms, jobs.list p50=${q(lists, 0.5).toFixed(1)} p95=${q(lists, 0.95).toFixed(1)} ms`
    )
    await page.evaluate(async () => {
      const jobs = (await (await fetch('/api/jobs.list', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).json()) as { id: string; state: string }[]
      for (const j of jobs.filter((x) => x.state === 'running')) await fetch('/api/jobs.cancel', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ id: j.id }) })
    })
  }, 150_000)
})
