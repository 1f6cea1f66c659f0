/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The workbench in Debian's Chromium against `equiav serve`: the runs table and loss chart; a pretraining
 * job launched from the Train form and watched to completion; that run fine-tuned from the Fine-tune form
 * (validation messages, a measured time per epoch, the lineage in the runs table); a longer one whose chart
 * grows live, then cancelled and resumed from its checkpoint.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pretrainConfigFixture } from '../helpers/runs'
import { type Workbench, openWorkbench, tempWorkspace } from './harness'

let wb: Workbench

beforeAll(async () => {
  const workspace = tempWorkspace()
  const run = join(workspace, 'runs', 'seeded')
  mkdirSync(run, { recursive: true })
  writeFileSync(
    join(run, 'config.json'),
    JSON.stringify(pretrainConfigFixture({ run: 'seeded', totalSteps: 3, created: 'now', data: { kind: 'synthetic', clips: 4, describe: 'seeded by the test', size: 4 } }))
  )
  const row = (step: number, loss: number): string =>
    JSON.stringify({ step, epoch: 0, loss, loss_inter: loss / 2, loss_intra_a: loss, loss_intra_v: loss, lr: 1e-4, grad_norm: 1, clips_per_s: 9, time: 't' })
  writeFileSync(join(run, 'metrics.jsonl'), [row(1, 3), row(2, 2.5), row(3, 2)].join('\n') + '\n')
  wb = await openWorkbench(workspace)
}, 120_000)

afterAll(async () => {
  await wb?.close()
})

/** The number of steps the loss chart's heading counts for a run. */
async function chartSteps(page: Page, run: string): Promise<number> {
  const text = (await page.getByRole('heading', { name: new RegExp(`^${run}: loss per term`) }).textContent()) ?? ''
  return Number(/\((\d+) steps\)/.exec(text)?.[1] ?? NaN)
}

async function waitForSteps(page: Page, run: string, atLeast: number, timeout = 60_000): Promise<number> {
  await page.waitForFunction(
    ([r, n]) => {
      const h = [...document.querySelectorAll('h2')].find((e) => e.textContent?.startsWith(`${r}: loss per term`))
      return Number(/\((\d+) steps\)/.exec(h?.textContent ?? '')?.[1] ?? 0) >= Number(n)
    },
    [run, atLeast],
    { timeout }
  )
  return chartSteps(page, run)
}

describe('workbench (serve mode, Chromium)', () => {
  it('shows the runs and their loss chart, and runs a pretraining job launched from the form', async () => {
    const page = await wb.browser.newPage({ viewport: { width: 1280, height: 900 } })
    await page.goto(wb.url)
    await page.getByTestId('runs-table').getByText('seeded', { exact: true }).waitFor()
    await page.getByTestId('loss-chart').locator('canvas').first().waitFor()
    await page.getByRole('heading', { name: /seeded: loss per term \(3 steps\)/ }).waitFor({ timeout: 10_000 })

    const nav = page.getByTestId('nav')
    await nav.getByText('Train', { exact: true }).click()
    await page.fill('input[name=run]', 'from-ui')
    await page.fill('input[name=steps]', '3')
    await page.fill('input[name=batchSize]', '2')
    await page.click('button[type=submit]')
    await page.getByTestId('jobs-table').getByText('done').waitFor({ timeout: 90_000 })

    await page.fill('input[name=run]', '../escape')
    await page.click('button[type=submit]')
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/run: a run name/)

    await nav.getByText('Runs', { exact: true }).click()
    await page.getByTestId('runs-table').getByText('from-ui', { exact: true }).click()
    await page.getByRole('heading', { name: /from-ui: loss per term \(3 steps\)/ }).waitFor({ timeout: 10_000 })
  }, 150_000)

  it('fine-tunes the run from the Fine-tune form, with validation, a measured time per epoch and the lineage in the runs table', async () => {
    const page = await wb.browser.newPage({ viewport: { width: 1280, height: 900 } })
    await page.goto(wb.url)
    await page.getByTestId('nav').getByText('Train', { exact: true }).click()
    await page.fill('input[name=batchSize]', '2')
    // no step time cached yet: measure one (two real steps in an engine process)
    const estimate = page.getByTestId('epoch-estimate').first()
    await estimate.locator('[data-action=measure]').click()
    await estimate.getByText(/≈ .* per epoch on \w+ \(128 steps × [\d.]+ s\)/).waitFor({ timeout: 60_000 })

    const ft = page.getByTestId('finetune-form')
    await ft.locator('select[name=ft-from] option', { hasText: 'from-ui' }).waitFor({ state: 'attached' })
    await ft.locator('select[name=ft-from]').selectOption('from-ui')
    await ft.locator('input[name=ft-run]').fill('from-ui')
    await ft.locator('button[type=submit]').click()
    await expect(page.getByTestId('finetune-message').textContent()).resolves.toMatch(/run: the fine-tuning run needs a name of its own/)
    await ft.locator('input[name=ft-run]').fill('ft-ui')
    await ft.locator('input[name=ft-mixup]').fill('2')
    await ft.locator('button[type=submit]').click()
    await expect(page.getByTestId('finetune-message').textContent()).resolves.toMatch(/mixup: a probability in \[0, 1\]/)
    await ft.locator('input[name=ft-mixup]').fill('0')
    // an official checkpoint file instead of a run: named by absolute path
    await ft.locator('select[name=ft-source]').selectOption('checkpoint')
    await ft.locator('input[name=ft-fromCheckpoint]').fill('EquiAV.pth')
    await ft.locator('button[type=submit]').click()
    await expect(page.getByTestId('finetune-message').textContent()).resolves.toMatch(/fromCheckpoint: an absolute path/)
    await ft.locator('select[name=ft-source]').selectOption('run')
    await ft.locator('input[name=ft-linear-probe]').check()
    await ft.locator('select[name=ft-length]').selectOption('steps')
    await ft.locator('input[name=ft-amount]').fill('2')
    await ft.locator('input[name=ft-batchSize]').fill('2')
    await ft.locator('button[type=submit]').click()
    const jobs = page.getByTestId('jobs-table')
    await jobs.locator('tr', { hasText: 'ft-ui' }).getByText('done').waitFor({ timeout: 90_000 })
    // a linear probe's step is measured on its own (frozen encoders cost less)
    const probeEstimate = page.getByTestId('epoch-estimate').nth(1)
    await probeEstimate.locator('[data-action=measure]').click()
    await probeEstimate.getByText(/≈ .* per epoch on \w+ \(128 steps × [\d.]+ s\)/).waitFor({ timeout: 60_000 })

    await page.getByTestId('nav').getByText('Runs', { exact: true }).click()
    const row = page.getByTestId('runs-table').locator('tr', { hasText: 'ft-ui' })
    await row.getByText('from from-ui @ 3').waitFor({ timeout: 10_000 })
    await expect(row.textContent()).resolves.toMatch(/linear probe audio-visual, bce/)
  }, 150_000)

  it('draws a running job\'s curve live, cancels it, and resumes it from its checkpoint', async () => {
    const page = await wb.browser.newPage({ viewport: { width: 1280, height: 1000 } })
    await page.goto(wb.url)
    await page.getByTestId('nav').getByText('Train', { exact: true }).click()
    await page.fill('input[name=run]', 'long')
    await page.fill('input[name=steps]', '400')
    await page.fill('input[name=batchSize]', '2')
    await page.click('button[type=submit]')
    await page.getByTestId('nav').getByText('Runs', { exact: true }).click()
    await page.getByTestId('runs-table').getByText('long', { exact: true }).click({ timeout: 60_000 })

    // the chart grows while the job runs: the rows arrive as events, no reload
    const first = await waitForSteps(page, 'long', 2)
    const later = await waitForSteps(page, 'long', first + 2)
    expect(later).toBeGreaterThan(first)

    const jobs = page.getByTestId('jobs-table')
    await jobs.locator('tr', { hasText: 'running' }).locator('[data-action=cancel]').click()
    await jobs.locator('tr', { hasText: 'cancelled' }).waitFor({ timeout: 30_000 })
    const stopped = await chartSteps(page, 'long')

    await jobs.locator('tr', { hasText: 'cancelled' }).locator('[data-action=resume]').click()
    await jobs.locator('tr', { hasText: 'running' }).waitFor({ timeout: 30_000 })
    // resumed where it stopped: the curve continues past the cancelled step count
    const resumed = await waitForSteps(page, 'long', stopped + 2)
    expect(resumed).toBeGreaterThan(stopped)
    const logs = await page.evaluate(async () => ((await (await fetch('/api/jobs.list', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).json()) as { log: string[] }[]).map((j) => j.log.join('\n')))
    expect(logs.some((l) => /from its checkpoint at step \d+/.test(l))).toBe(true)
    await jobs.locator('tr', { hasText: 'running' }).locator('[data-action=cancel]').click()
    await expect(jobs.locator('tr', { hasText: 'cancelled' }).count()).resolves.toBeGreaterThanOrEqual(1)
    await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid=jobs-table] tr')].some((r) => r.textContent?.includes('running')), undefined, {
      timeout: 30_000
    })
    await expect(jobs.locator('tr', { hasText: 'cancelled' }).count()).resolves.toBe(2)
  }, 200_000)
})
