/**
 * The workbench in Debian's Chromium against `equiav serve`: the runs table and loss chart, and a
 * pretraining job launched from the Train form, watched to completion, its curve drawn live.
 * Needs the built renderer (`npm run build`, which CI runs first) and /usr/bin/chromium.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = resolve(__dirname, '../..')
const workspace = mkdtempSync(join(tmpdir(), 'equiav-e2e-'))
const shots = process.env.EQUIAV_SCREENSHOTS // set to docs/ to refresh the README's pictures
let server: ChildProcess
let url: string
let browser: Browser

beforeAll(async () => {
  const run = join(workspace, 'runs', 'seeded')
  mkdirSync(run, { recursive: true })
  writeFileSync(
    join(run, 'config.json'),
    JSON.stringify({ preset: 'tiny', objective: 'equiav', totalSteps: 3, created: 'now', data: { describe: 'seeded by the test' }, backend: { name: 'wasm' } })
  )
  const row = (step: number, loss: number): string =>
    JSON.stringify({ step, epoch: 0, loss, loss_inter: loss / 2, loss_intra_a: loss, loss_intra_v: loss, lr: 1e-4, grad_norm: 1, clips_per_s: 9, time: 't' })
  writeFileSync(join(run, 'metrics.jsonl'), [row(1, 3), row(2, 2.5), row(3, 2)].join('\n') + '\n')

  server = spawn(process.execPath, [join(root, 'bin/equiav.mjs'), 'serve', '--workspace', workspace], { stdio: ['ignore', 'pipe', 'inherit'] })
  url = await new Promise<string>((ok, fail) => {
    server.stdout!.on('data', (d: Buffer) => {
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=\w+/.exec(d.toString())
      if (m) ok(m[0])
    })
    server.once('exit', (code) => fail(new Error(`serve exited with ${code}`)))
  })
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  server?.kill()
  rmSync(workspace, { recursive: true, force: true })
})

describe('workbench (serve mode, Chromium)', () => {
  it('shows the runs and their loss chart, and runs a pretraining job launched from the form', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    await page.goto(url)
    await page.getByTestId('runs-table').getByText('seeded', { exact: true }).waitFor()
    await page.getByTestId('loss-chart').locator('canvas').first().waitFor()
    // the metrics arrive a moment after the run list: wait for the heading to count them
    await page.getByRole('heading', { name: /seeded: loss per term \(3 steps\)/ }).waitFor({ timeout: 10_000 })

    const nav = page.getByTestId('nav')
    await nav.getByText('Train', { exact: true }).click()
    await page.fill('input[name=run]', 'from-ui')
    await page.fill('input[name=steps]', '3')
    await page.fill('input[name=batchSize]', '2')
    await page.click('button[type=submit]')
    await page.getByTestId('jobs-table').getByText('running').or(page.getByTestId('jobs-table').getByText('done')).first().waitFor()
    await page.getByTestId('jobs-table').getByText('done').waitFor({ timeout: 90_000 })

    await page.fill('input[name=run]', '../escape')
    await page.click('button[type=submit]')
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/run: a run name/)

    await nav.getByText('Runs', { exact: true }).click()
    await page.getByTestId('runs-table').getByText('from-ui', { exact: true }).click()
    await page.getByRole('heading', { name: /from-ui: loss per term \(3 steps\)/ }).waitFor({ timeout: 10_000 })
    if (shots) await page.screenshot({ path: join(shots, 'workbench-runs.png'), fullPage: true })
  }, 150_000)
})
