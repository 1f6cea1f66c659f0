/**
 * Retakes the README's pictures on a real workspace: the demo (dataset, run and its stored test
 * embeddings, as `npx equiav demo` leaves them, with any other runs of the demo dataset beside it) and a
 * folder of real footage imported as the dataset `footage` (scripts/real-footage.sh builds one).
 * Needs the built renderer (`npm run build`) and /usr/bin/chromium. Nothing in the workspace is changed
 * except the caches a user's visit fills (thumbnails, playback transcodes).
 * Usage: npx tsx scripts/readme-screenshots.ts --workspace DIR [--out docs] [--only NAME]
 */
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { Page } from 'playwright-core'
import { drawnPixels, hoverAPoint, openWorkbench, root } from '../tests/e2e/harness'

const { values } = parseArgs({ options: { workspace: { type: 'string' }, out: { type: 'string', default: join(root, 'docs') }, only: { type: 'string' } } })
if (!values.workspace) throw new Error('usage: npx tsx scripts/readme-screenshots.ts --workspace DIR [--out docs]')
const out = resolve(values.out)
const wb = await openWorkbench(resolve(values.workspace), { keep: true })

/** The inspector's frames and spectrogram drawn, and its video ready to play. */
async function inspectorLoaded(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const images = [...document.querySelectorAll<HTMLImageElement>('[data-testid=clip-inspector] img')]
      const video = document.querySelector<HTMLVideoElement>('[data-testid=clip-video]')
      return images.length > 0 && images.every((i) => i.complete && i.naturalWidth > 0) && video !== null && video.readyState >= 2
    },
    undefined,
    { timeout: 180_000 }
  )
}

async function shot(name: string, route: string, act: (page: Page) => Promise<void>): Promise<void> {
  if (values.only && !name.includes(values.only)) return
  const page = await wb.browser.newPage({ viewport: { width: 1440, height: 1000 } })
  await page.goto(`${wb.url}#${route}`)
  await act(page).catch(async (err: unknown) => {
    await page.screenshot({ path: join(out, `${name}.failed.png`), fullPage: true })
    throw err
  })
  await page.waitForTimeout(800) // charts finish their entry animation
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true })
  await page.close()
  console.log(`${name}.png`)
}

try {
  await shot('workbench-datasets', '/datasets/demo', async (page) => {
    // the thumbnail grid, three clips selected for a bulk edit, one inspected
    await page.getByTestId('datasets-table').getByText('demo', { exact: true }).click()
    await page.locator('input[name=clip-layout][value=grid]').check()
    const grid = page.getByTestId('clip-grid')
    await grid.locator('.tile[data-index="5"]').click()
    await page.keyboard.press('Enter')
    for (const i of [3, 7, 10]) await grid.locator(`.tile[data-index="${i}"]`).click({ modifiers: ['Control'] })
    await page.getByTestId('bulk-bar').getByText('3 selected').waitFor()
    await inspectorLoaded(page)
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('[data-testid=clip-grid] img')].every((i) => i.complete && i.naturalWidth > 0), undefined, {
      timeout: 180_000
    })
  })
  await shot('workbench-footage', '/datasets/footage', async (page) => {
    await page.getByTestId('datasets-table').getByText('footage', { exact: true }).click()
    await page.getByTestId('quarantine-report').waitFor()
    await page.getByText('scenes/tree.mkv').first().click()
    await page.getByTestId('playback-transcode').waitFor({ timeout: 180_000 })
    await inspectorLoaded(page)
  })
  await shot('workbench-train', '/train', async (page) => {
    await page.locator('select[name=dataset]').selectOption('demo')
  })
  await shot('workbench-runs', '/runs/demo', async (page) => {
    await page.getByTestId('runs-table').waitFor()
  })
  await shot('workbench-retrieval', '/retrieval', async (page) => {
    await page.getByTestId('query-list').locator('li').nth(3).click()
    await page.getByTestId('true-rank').waitFor()
  })
  await shot('workbench-embeddings', '/embeddings', async (page) => {
    await page.getByTestId('lasso-layer').waitFor()
    // a UMAP of the test split coloured by the true pair's rank, one clip hovered (its thumbnail shown)
    const umap = page.waitForResponse((r) => r.url().includes('method=umap'), { timeout: 180_000 })
    await page.locator('select[name=projection-method]').selectOption('umap')
    await umap
    await page.locator('select[name=colour-by]').selectOption('rank')
    await page.getByTestId('map-legend').getByText(/rank of the true pair/).waitFor()
    const { spots } = await drawnPixels(page)
    if (!(await hoverAPoint(page, spots.slice(Math.floor(spots.length / 3))))) throw new Error('no point showed its clip on hover')
    await page.waitForFunction(() => document.querySelector<HTMLImageElement>('[data-testid=hover-thumb]')?.complete)
  })
} finally {
  await wb.close()
}
