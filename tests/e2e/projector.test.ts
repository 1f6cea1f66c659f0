/// <reference lib="dom" />
/**
 * The Embeddings view as a projector, in Chromium against `equiav serve`, on a tiny demo dataset, a
 * two-step run and its train split's embeddings made with the CLI: UMAP chosen in the view and drawn;
 * hovering a point shows its clip's thumbnail and plays its sound; a lasso drawn with the mouse around
 * part of the map selects those clips, which export as a clip list and are excluded, relabelled and moved
 * to another split in bulk (checked in the catalog through the API, and in the status and split colours);
 * the true pair's rank as colours; a click on a point opens its clip.
 */
import { readFileSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TINY_TRAIN_CLIPS as TRAIN_CLIPS, type Workbench, drawnPixels, equiav, hoverAPoint, openWorkbench, tinyRunWorkspace } from './harness'

let wb: Workbench

beforeAll(async () => {
  const workspace = tinyRunWorkspace()
  equiav(workspace, 'embed', '--run', 'tiny-run', '--dataset', 'demo', '--split', 'train')
  wb = await openWorkbench(workspace)
}, 180_000)

afterAll(async () => {
  await wb?.close()
})

async function post<T>(page: Page, method: string, input: unknown): Promise<T> {
  return page.evaluate(
    async ([m, body]) => {
      const r = await fetch(`/api/${m}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      return r.json()
    },
    [method, input] as const
  ) as Promise<T>
}

describe('the embedding projector (serve mode, Chromium)', () => {
  it('draws a UMAP, plays a hovered clip, and lassoes a group of clips that export and are excluded, relabelled and moved in bulk', async () => {
    const page = await wb.browser.newPage({ viewport: { width: 1280, height: 1100 } })
    await page.goto(`${wb.url}#/embeddings`)
    const target = page.getByTestId('analysis-target')
    await target.locator('select[name=run]').getByText('tiny-run').waitFor({ state: 'attached' })
    await target.locator('select[name=dataset]').selectOption('demo')
    await target.locator('select[name=split]').selectOption('train')
    await target.getByText(`${TRAIN_CLIPS} clips embedded`).waitFor({ timeout: 30_000 })

    // UMAP chosen in the view: computed by the server for these parameters, then drawn
    const umap = page.waitForResponse((r) => r.url().includes('/api-bin/embeddings/tiny-run/demo/train?') && r.url().includes('method=umap'), { timeout: 60_000 })
    await page.locator('select[name=projection-method]').selectOption('umap')
    expect((await umap).status()).toBe(200)
    await page.locator('input[name=umap-neighbors]').waitFor()
    await expect.poll(async () => (await drawnPixels(page)).spots.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(4)

    // hover: the clip's thumbnail and its sound from the one audio element (after a click, as the autoplay policy wants)
    await page.getByText('hover a point for its clip').click()
    const { box, spots } = await drawnPixels(page)
    const hovered = await hoverAPoint(page, spots)
    expect(hovered).not.toBeNull()
    const card = page.getByTestId('hover-card')
    const hoveredId = (await card.locator('strong').textContent())!.trim()
    await expect.poll(() => page.getByTestId('hover-thumb').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 10_000 }).toBeGreaterThan(0)
    const audio = page.getByTestId('hover-audio')
    await expect.poll(() => audio.evaluate((a: HTMLAudioElement) => a.currentTime), { timeout: 10_000 }).toBeGreaterThan(0)
    expect(await audio.evaluate((a: HTMLAudioElement) => ({ paused: a.paused, src: decodeURIComponent(a.src) }))).toMatchObject({ paused: false, src: expect.stringContaining(`${hoveredId}/audio.wav`) })
    // leaving the point stops it; with the switch off, hovering it again plays nothing
    await page.mouse.move(2, 2)
    await expect.poll(() => audio.evaluate((a: HTMLAudioElement) => a.paused)).toBe(true)
    await page.locator('input[name=sound-on-hover]').uncheck()
    await page.mouse.move(...hovered!)
    await card.waitFor()
    await page.waitForTimeout(600)
    expect(await audio.evaluate((a: HTMLAudioElement) => a.paused)).toBe(true)
    await page.locator('input[name=sound-on-hover]').check()

    // a lasso around the left half of the drawn points: some clips, not all
    const midX = (box.x0 + box.x1) / 2
    const lasso: [number, number][] = [
      [box.x0 - 8, box.y0 - 8],
      [midX, box.y0 - 8],
      [midX, box.y1 + 8],
      [box.x0 - 8, box.y1 + 8]
    ]
    await page.mouse.move(...lasso[0])
    await page.mouse.down()
    for (const c of [...lasso.slice(1), lasso[0]]) await page.mouse.move(...c, { steps: 6 })
    await page.mouse.up()
    const count = Number(/(\d+) clips selected/.exec((await page.getByTestId('selection-count').textContent()) ?? '')?.[1])
    expect(count).toBeGreaterThan(0)
    expect(count).toBeLessThan(TRAIN_CLIPS)
    const selected = (await page.getByTestId('selection-list').locator('a').allTextContents()).map((s) => s.trim()).sort()
    expect(selected).toHaveLength(count)

    // exported as a clip list: the same ids
    const download = page.waitForEvent('download')
    await page.getByTestId('selection-export-txt').click()
    const file = await (await download).path()
    expect(readFileSync(file, 'utf8').trim().split('\n').sort()).toEqual(selected)

    // excluded in bulk: the catalog has exactly those clips excluded, and the status colours say so
    await page.locator('select[name=colour-by]').selectOption('status')
    await page.getByTestId('selection-exclude').click()
    await page.getByTestId('map-legend').getByText(`excluded (${count})`).waitFor()
    // then relabelled (primary label 3) and moved to the val split, as one edit each
    await page.locator('select[name=selection-label]').selectOption('3')
    await page.getByTestId('selection-relabel').click()
    await page.locator('select[name=selection-split]').selectOption('val')
    await page.getByTestId('selection-move').click()
    await page.locator('select[name=colour-by]').selectOption('split')
    await page.getByTestId('map-legend').getByText(`val (${count})`).waitFor()
    const all = await post<{ ids: string[] }>(page, 'embeddings.map', { run: 'tiny-run', dataset: 'demo', split: 'train' })
    for (const id of all.ids) {
      const row = await post<{ excluded: boolean; split: string; labels: number[] }>(page, 'datasets.clip', { dataset: 'demo', clip: id })
      const inLasso = selected.includes(id)
      expect([id, row.excluded, row.split, row.labels[0] === 3]).toEqual([id, inLasso, inLasso ? 'val' : 'train', inLasso || row.labels[0] === 3])
    }

    // the rank of the true pair on a continuous scale
    await page.locator('select[name=colour-by]').selectOption('rank')
    await page.getByTestId('map-legend').getByText(/rank of the true pair/).waitFor()
    await expect.poll(() => page.getByTestId('map-legend').textContent()).not.toMatch(/computing/)

    // a click on a point opens its clip in the Datasets inspector
    const [x, y] = spots[0]
    await page.mouse.move(x, y)
    await card.waitFor()
    const id = (await card.locator('strong').textContent())!.trim()
    await page.mouse.click(x, y)
    await page.waitForURL(/#\/datasets\/demo\?clip=/)
    await page.getByTestId('clip-inspector').getByText(id).first().waitFor()
  }, 180_000)
})
