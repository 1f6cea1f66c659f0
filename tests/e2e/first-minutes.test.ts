/// <reference lib="dom" />
/**
 * The first five minutes in Chromium against `equiav serve`, on a workspace made by a tiny `equiav demo`
 * (24 clips, 2 steps): the Retrieval and Embeddings views open with the demo's results without pressing
 * Compute embeddings; the Train form lists the prepared datasets, starts at the request schema's defaults,
 * keeps what was typed across views, and shows the server's refusal of an impossible request, no job started.
 */
import { cpSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PretrainRequestSchema } from '../../src/shared/requests'
import { type Workbench, equiav, openWorkbench, tempWorkspace } from './harness'

let wb: Workbench
let demoOutput = ''
const TEST_CLIPS = 4 // of the demo's 24 clips, split 5:1

beforeAll(async () => {
  const workspace = tempWorkspace()
  demoOutput = equiav(workspace, 'demo', '--clips', '24', '--steps', '2', '--no-serve')
  // a second dataset, never prepared, listed first: the analysis views still open on the demo's evaluation,
  // and the Train form lists it without letting it be picked
  equiav(workspace, 'dataset', 'create-demo', '--name', 'clips', '--clips', '12')
  // a run evaluated after the demo without storing embeddings (as `experiment ablation` leaves its runs):
  // the views still open on the evaluation they can show
  const later = join(workspace, 'runs', 'later')
  mkdirSync(later)
  cpSync(join(workspace, 'runs', 'demo', 'config.json'), join(later, 'config.json'))
  cpSync(join(workspace, 'runs', 'demo', 'checkpoints'), join(later, 'checkpoints'), { recursive: true })
  equiav(workspace, 'eval', 'retrieval', '--run', 'later', '--dataset', 'demo')
  wb = await openWorkbench(workspace)
}, 400_000)

afterAll(async () => {
  await wb?.close()
})

/** The server's job list, as the page's own calls see it. */
const listJobs = (page: Page): Promise<{ kind: string; state: string }[]> =>
  page.evaluate(() => fetch('/api/jobs.list', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }).then((r) => r.json() as Promise<{ kind: string; state: string }[]>))

describe('the first five minutes (serve mode, Chromium)', () => {
  it('opens Retrieval and Embeddings with the demo run\'s test-split results, nothing pressed', async () => {
    expect(demoOutput).toMatch(/5\/5 zero-shot retrieval on the test split/)
    expect(demoOutput).toMatch(new RegExp(`retrieval on ${TEST_CLIPS} test clips`))
    const page = await wb.browser.newPage({ viewport: { width: 1280, height: 1000 } })
    await page.goto(`${wb.url}#/retrieval`)
    const target = page.getByTestId('analysis-target')
    await target.getByText(`${TEST_CLIPS} clips embedded`).waitFor({ timeout: 15_000 })
    await expect(target.locator('select[name=run]').inputValue()).resolves.toBe('demo')
    await expect(target.locator('select[name=dataset]').inputValue()).resolves.toBe('demo')
    await expect(target.locator('select[name=split]').inputValue()).resolves.toBe('test')
    await expect(page.getByTestId('compute-embeddings').textContent()).resolves.toMatch(/Recompute embeddings/)
    await page.getByTestId('recall-table').waitFor()
    await expect(page.getByTestId('query-list').locator('li').count()).resolves.toBe(TEST_CLIPS)
    await page.getByTestId('query-list').locator('li').first().click()
    await page.getByTestId('top-k').locator('li').first().waitFor()
    await expect(page.getByTestId('top-k').locator('li').count()).resolves.toBe(TEST_CLIPS)
    await expect(page.getByTestId('true-rank').textContent()).resolves.toMatch(new RegExp(`ranked [1-${TEST_CLIPS}] of ${TEST_CLIPS}`))
    // no embed job was needed
    await expect(listJobs(page)).resolves.toEqual([])

    await page.getByTestId('nav').getByText('Embeddings').click()
    await page.getByTestId('lasso-layer').waitFor()
    await expect(page.getByTestId('analysis-empty').count()).resolves.toBe(0)
  }, 60_000)

  it('lists the prepared datasets in the Train form, starts at the request schema\'s defaults and keeps typed values across views', async () => {
    const page = await wb.browser.newPage({ viewport: { width: 1280, height: 1000 } })
    await page.goto(`${wb.url}#/train`)
    const form = page.getByTestId('pretrain-form')
    const dataset = form.locator('select[name=dataset]')
    await dataset.locator('option[value=demo]').waitFor({ state: 'attached' })
    const options = await dataset.locator('option').evaluateAll((os: HTMLOptionElement[]) => os.map((o) => ({ value: o.value, text: o.textContent?.trim(), disabled: o.disabled })))
    expect(options).toEqual([
      { value: '', text: 'synthetic task', disabled: false },
      { value: 'clips', text: 'clips (not prepared for tiny)', disabled: true },
      { value: 'demo', text: 'demo', disabled: false }
    ])
    await expect(page.getByTestId('train-no-dataset').count()).resolves.toBe(0)

    // every default is the schema's, the one `equiav pretrain` parses its flags into
    const d = PretrainRequestSchema.parse({ run: 'r' })
    await expect(dataset.inputValue()).resolves.toBe('')
    await expect(form.locator('select[name=preset]').inputValue()).resolves.toBe(d.preset)
    await expect(form.locator('select[name=objective]').inputValue()).resolves.toBe(d.objective)
    await expect(form.locator('input[name=timeRoll]').isChecked()).resolves.toBe(d.timeRoll)
    await expect(form.locator('input[name=resume]').isChecked()).resolves.toBe(d.resume)
    for (const key of ['batchSize', 'clipNorm', 'tau', 'seed', 'checkpointEvery', 'keepCheckpoints'] as const) {
      await expect(form.locator(`input[name=${key}]`).inputValue(), key).resolves.toBe(String(d[key]))
    }
    // lr and steps are left to the schema: the preset's learning rate, one epoch
    await expect(form.locator('input[name=lr]').inputValue()).resolves.toBe('')
    await expect(form.locator('input[name=lr]').getAttribute('placeholder')).resolves.toBe(`${d.lr} (tiny)`)
    await expect(form.locator('input[name=steps]').inputValue()).resolves.toBe('')

    // typed values survive a visit to another view
    await form.locator('input[name=run]').fill('kept-run')
    await form.locator('input[name=steps]').fill('7')
    await form.locator('input[name=timeRoll]').uncheck()
    await dataset.selectOption('demo')
    await page.getByTestId('nav').getByText('Runs', { exact: true }).click()
    await page.getByTestId('runs-table').waitFor()
    await page.getByTestId('nav').getByText('Train', { exact: true }).click()
    await expect(form.locator('input[name=run]').inputValue()).resolves.toBe('kept-run')
    await expect(form.locator('input[name=steps]').inputValue()).resolves.toBe('7')
    await expect(form.locator('input[name=timeRoll]').isChecked()).resolves.toBe(false)
    await expect(dataset.inputValue()).resolves.toBe('demo')
  }, 60_000)

  it('refuses an impossible request before a job starts, in the form, and offers no Resume', async () => {
    const page = await wb.browser.newPage({ viewport: { width: 1280, height: 1000 } })
    await page.goto(`${wb.url}#/train`)
    const form = page.getByTestId('pretrain-form')
    await form.locator('select[name=dataset] option[value=demo]').waitFor({ state: 'attached' })
    await form.locator('input[name=run]').fill('impossible')
    await form.locator('select[name=dataset]').selectOption('demo')
    // the demo is prepared for tiny only; with small it is listed as not prepared, and the server refuses it
    await form.locator('select[name=preset]').selectOption('small')
    await expect(form.locator('select[name=dataset] option[value=demo]').textContent()).resolves.toBe('demo (not prepared for small)')
    await page.getByTestId('train-no-dataset').waitFor()
    await form.getByRole('button', { name: 'Start' }).click()
    await page.getByTestId('pretrain-message').waitFor()
    await expect(page.getByTestId('pretrain-message').textContent()).resolves.toMatch(/dataset: dataset "demo" is not prepared for the small preset/)
    await expect(listJobs(page)).resolves.toEqual([])
    await expect(page.locator('[data-action=resume]').count()).resolves.toBe(0)
  }, 60_000)
})
