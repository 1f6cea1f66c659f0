/// <reference lib="dom" />
/**
 * The Runs view in Debian's Chromium against `equiav serve`, on a workspace seeded with runs, retrieval
 * reports and a cancelled job: R@K ranks only runs evaluated on one set; the chosen columns and filter are
 * remembered; a smoothed, zoomed chart with each term's chance level; a run's page; Resume offered once.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pretrainConfigFixture } from '../helpers/runs'
import { type Workbench, openWorkbench, tempWorkspace } from './harness'

let wb: Workbench
const STEPS = 60
/** a noisy falling loss, step 1..60, one row every 10 s */
const loss = (k: number): number => 3 - k / 40 + 0.15 * (((k * 7) % 5) - 2)
const metric = (r1: number) => ({ 'R@1': r1, 'R@5': 2 * r1, 'R@10': 3 * r1, median_rank: 50 })

function seedRun(workspace: string, name: string, evaluations: { n: number; r1: number }[], extra = {}): void {
  const dir = join(workspace, 'runs', name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'config.json'), JSON.stringify(pretrainConfigFixture({ run: name, totalSteps: STEPS, created: 'now', ...extra })))
  const rows = Array.from({ length: STEPS }, (_, i) => {
    const k = i + 1
    const time = new Date(Date.UTC(2026, 0, 1, 0, 0, 10 * k)).toISOString()
    return JSON.stringify({ step: k, epoch: 0, loss: loss(k), loss_inter: loss(k) - 0.5, loss_intra_a: loss(k) + 0.5, loss_intra_v: loss(k) + 0.4, lr: 1e-4, grad_norm: 1, clips_per_s: 9, time })
  })
  writeFileSync(join(dir, 'metrics.jsonl'), rows.join('\n') + '\n')
  for (const [i, e] of evaluations.entries()) {
    const split = ['test', 'val'][i] // one report per split
    writeFileSync(join(dir, `retrieval-demo-${split}-centroid.json`), JSON.stringify({ run: name, step: STEPS, dataset: 'demo', split: 'test', embedding: 'centroid', n: e.n, a2v: metric(e.r1), v2a: metric(e.r1), per_class: {} }))
  }
}

beforeAll(async () => {
  const workspace = tempWorkspace()
  seedRun(workspace, 'big-a', [{ n: 240, r1: 2.5 }], { lr: 2e-4, seed: 1 })
  seedRun(workspace, 'big-b', [{ n: 240, r1: 3.1 }], { lr: 4e-4 })
  // the case: evaluated on 25 clips, a far higher R@1 that is not comparable
  seedRun(workspace, 'small', [{ n: 25, r1: 40 }], { lr: 2e-4 })
  mkdirSync(join(workspace, 'jobs'))
  const job = {
    id: '20260101000000-1-1',
    request: { kind: 'pretrain', args: { workspace, run: 'stopped', preset: 'tiny', objective: 'equiav', steps: 2, batchSize: 2, lr: 2e-4, seed: 0, checkpointEvery: 1, resume: false, syntheticClips: 4 } },
    state: 'cancelled',
    created: '2026-01-01T00:00:00.000Z',
    started: '2026-01-01T00:00:01.000Z',
    ended: '2026-01-01T00:00:09.000Z',
    log: []
  }
  writeFileSync(join(workspace, 'jobs', `${job.id}.json`), JSON.stringify(job))
  wb = await openWorkbench(workspace)
}, 120_000)

afterAll(async () => {
  await wb?.close()
})

const cell = (run: string, column: string): string => `[data-testid=runs-table] tr[data-run="${run}"] td[data-column="${column}"]`

describe('Runs view (serve mode, Chromium)', () => {
  it('ranks R@K only within one evaluation set, and remembers the chosen columns and filter', async () => {
    const page = await wb.browser.newPage({ viewport: { width: 1400, height: 1000 } })
    await page.goto(wb.url)
    const table = page.getByTestId('runs-table')
    await table.locator('tr[data-run=small]').waitFor()
    // the set most runs share is chosen, and its chance is in the header
    await expect(page.locator('select[name=eval-set] option:checked').textContent()).resolves.toMatch(/demo\/test, n=240 \(2 runs\)/)
    await expect(table.locator('th[data-sort="a2v.R@1"]').textContent()).resolves.toMatch(/chance 0\.4/)
    await table.locator('th[data-sort="a2v.R@1"]').click() // best first
    const order = async (): Promise<string[]> => table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run') ?? ''))
    expect((await order()).slice(0, 2)).toEqual(['big-b', 'big-a'])
    expect(await order()).toHaveLength(3)
    await expect(page.locator(cell('big-b', 'a2v.R@1')).textContent()).resolves.toMatch(/^\s*3\.1\s*$/)
    // the run evaluated on 25 clips shows its own set, not a number ranked among these
    await expect(page.locator(cell('small', 'a2v.R@1')).textContent()).resolves.toMatch(/^\s*on demo\/test, n=25\s*$/)
    await page.locator('select[name=eval-set]').selectOption({ label: 'demo/test, n=25 (1 run)' })
    await expect(page.locator(cell('small', 'a2v.R@1')).textContent()).resolves.toMatch(/^\s*40\.0\s*$/)
    await expect(page.locator(cell('big-a', 'a2v.R@1')).textContent()).resolves.toMatch(/on demo\/test, n=240/)
    await expect(table.locator('th[data-sort="a2v.R@1"]').textContent()).resolves.toMatch(/chance 4\.0/)
    expect((await order())[0]).toBe('small')

    // config columns: add workers, drop seed; filter by lr; all remembered after a reload
    await page.getByTestId('column-picker').locator('summary').click()
    await page.locator('input[name=column-workers]').check()
    await page.locator('input[name=column-seed]').uncheck()
    await page.fill('input[name=runs-filter]', 'lr<3e-4')
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=runs-table] tbody tr').length === 2)
    await page.reload()
    await table.locator('tr[data-run=small]').waitFor()
    await expect(table.locator('th[data-sort=workers]').count()).resolves.toBe(1)
    await expect(table.locator('th[data-sort=seed]').count()).resolves.toBe(0)
    await expect(page.locator(cell('big-a', 'lr')).textContent()).resolves.toMatch(/2e-4/)
    expect((await order()).sort()).toEqual(['big-a', 'small'])
    await page.fill('input[name=runs-filter]', '')
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=runs-table] tbody tr').length === 3)
  }, 60_000)

  it("draws a run's curves smoothed, with each term's chance level, zoomed in by the wheel, and shows its page", async () => {
    const page = await wb.browser.newPage({ viewport: { width: 1400, height: 1000 } })
    await page.goto(`${wb.url}#/runs/big-a`) // a run's page has its own address
    await page.getByRole('heading', { name: /big-a: loss per term \(60 steps\)/ }).waitFor({ timeout: 10_000 })
    const panel = page.getByTestId('loss-chart-panel')
    await panel.locator('input[name=smoothing]').fill('0.9')
    // the smoothed last value is the debiased EMA: Σ w^(n−i)(1−w) y_i / (1 − w^n)
    const w = 0.9
    let num = 0
    for (let k = 1; k <= STEPS; k++) num += Math.pow(w, STEPS - k) * (1 - w) * loss(k)
    const expected = num / (1 - Math.pow(w, STEPS))
    const readout = page.getByTestId('curve-readout')
    await readout.locator('tr[data-term=loss] [data-field=smoothed]').getByText(`smoothed ${expected.toFixed(4)}`).waitFor({ timeout: 5_000 })
    await expect(readout.locator('tr[data-term=loss]').textContent()).resolves.toContain(`last ${loss(STEPS).toFixed(4)}`)
    // batch 16: ln 16 for the inter-modal term, ln 31 for the intra-modal ones
    await expect(readout.locator('tr[data-term=loss_inter]').textContent()).resolves.toContain('chance ln 16 = 2.7726')
    await expect(readout.locator('tr[data-term=loss_intra_a]').textContent()).resolves.toContain('chance ln 31 = 3.4340')

    const zoom = page.getByTestId('zoom-window')
    await expect(zoom.textContent()).resolves.toMatch(/all of step 1–60/)
    const box = (await page.getByTestId('loss-chart').boundingBox())!
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.4)
    for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -300)
    await zoom.getByText(/zoomed to step/).waitFor({ timeout: 5_000 })
    const [lo, hi] = /step (\d+)–(\d+)/.exec((await zoom.textContent()) ?? '')!.slice(1).map(Number)
    expect(hi - lo).toBeLessThan(50)
    expect(lo).toBeGreaterThanOrEqual(1)
    // wall-clock: minutes since the first step (one row every 10 s)
    await panel.locator('select[name=x-axis]').selectOption('wall-clock')
    await zoom.getByText(/wall-clock/).waitFor()

    const detail = page.getByTestId('run-detail')
    await expect(detail.getByTestId('run-evaluations').textContent()).resolves.toMatch(/demo\/test, n=240[\s\S]*2\.5 \/ 5\.0 \/ 7\.5 \/ 50[\s\S]*0\.4 \/ 2\.1 \/ 4\.2 \/ 120\.5/)
    await expect(detail.getByTestId('run-lineage').textContent()).resolves.toMatch(/random initialisation/)
    await detail.getByTestId('run-config').locator('summary').click()
    await expect(detail.getByTestId('run-config').textContent()).resolves.toMatch(/model\.cenNum\s*16/)
  }, 60_000)

  it('offers Resume once: the button goes, a second request is refused, and the stopped job says it was continued', async () => {
    const page = await wb.browser.newPage({ viewport: { width: 1400, height: 1000 } })
    await page.goto(wb.url)
    const jobs = page.getByTestId('jobs-table')
    const stopped = jobs.locator('tr[data-job="20260101000000-1-1"]')
    await stopped.locator('[data-action=resume]').dblclick()
    await stopped.getByText('continued by a later job').waitFor({ timeout: 10_000 })
    await expect(stopped.locator('[data-action=resume]').count()).resolves.toBe(0)
    const again = await page.evaluate(async () => {
      const r = await fetch('/api/jobs.resume', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ id: '20260101000000-1-1' }) })
      return { status: r.status, body: (await r.json()) as { error?: string } }
    })
    expect(again.status).toBeGreaterThanOrEqual(400)
    expect(again.body.error).toMatch(/already resumed as job/)
    const list = await page.evaluate(async () => (await (await fetch('/api/jobs.list', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).json()) as { run: string; resumes: string | null }[])
    expect(list.filter((j) => j.run === 'stopped')).toHaveLength(2)
    expect(list.filter((j) => j.resumes === '20260101000000-1-1')).toHaveLength(1)
    // the sections have headers and the resumed job its times
    await expect(jobs.locator('thead').textContent()).resolves.toMatch(/started[\s\S]*ended[\s\S]*took/)
    await jobs.locator('tbody[data-section=recent] tr', { hasText: 'stopped' }).filter({ hasText: 'done' }).waitFor({ timeout: 90_000 })
    await page.reload()
    await stopped.getByText('continued by a later job').waitFor()
    await expect(stopped.locator('[data-action=resume]').count()).resolves.toBe(0)
  }, 120_000)
})
