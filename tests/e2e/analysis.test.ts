/// <reference lib="dom" />
/**
 * The Retrieval and Embeddings views in Chromium against `equiav serve`, on a tiny demo dataset and a
 * two-step run made with the CLI: embeddings computed as a job from the page, a query's top-k with its
 * true pair, a result played, and a lasso on the embedding map listing clips that open in the inspector.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TINY_TRAIN_CLIPS as TRAIN_CLIPS, type Workbench, openWorkbench, tinyRunWorkspace } from './harness'

let wb: Workbench

beforeAll(async () => {
  wb = await openWorkbench(tinyRunWorkspace())
}, 120_000)

afterAll(async () => {
  await wb?.close()
})

describe('retrieval and embeddings (serve mode, Chromium)', () => {
  it('computes embeddings, answers a query with its top-k and plays a result, then lassos the map', async () => {
    const page = await wb.browser.newPage({ viewport: { width: 1280, height: 1000 } })
    await page.goto(`${wb.url}#/retrieval`)
    const target = page.getByTestId('analysis-target')
    await target.locator('select[name=run]').getByText('tiny-run').waitFor({ state: 'attached' })
    await target.locator('select[name=dataset]').selectOption('demo')
    await target.locator('select[name=split]').selectOption('train')
    await target.getByText('no embeddings of this split yet').waitFor()
    await page.getByTestId('compute-embeddings').click()
    await target.getByText(`${TRAIN_CLIPS} clips embedded`).waitFor({ timeout: 60_000 })

    // a query clip: its top-k visual clips, the true pair ranked and marked when it is among them
    await expect(page.getByTestId('query-list').locator('li').count()).resolves.toBe(TRAIN_CLIPS)
    const query = page.getByTestId('query-list').locator('li').nth(3)
    const queryId = await query.getAttribute('data-clip')
    await query.click()
    const hits = page.getByTestId('top-k').locator('li')
    await hits.first().waitFor()
    await expect(hits.count()).resolves.toBe(10)
    const rank = Number(/ranked (\d+) of 20/.exec((await page.getByTestId('true-rank').textContent()) ?? '')?.[1])
    expect(rank).toBeGreaterThanOrEqual(1)
    expect(rank).toBeLessThanOrEqual(TRAIN_CLIPS)
    if (rank <= 10) await expect(hits.nth(rank - 1).getAttribute('data-clip')).resolves.toBe(queryId)
    await expect(page.locator('.grid li.truth').count()).resolves.toBe(rank <= 10 ? 1 : 0)
    await page.getByTestId('recall-table').waitFor()

    // visual → audio: the results are audio clips, and one plays
    await page.locator('select[name=direction]').selectOption('v2a')
    const audio = page.getByTestId('top-k').locator('li audio').first()
    await audio.waitFor()
    await audio.click() // a user gesture for the autoplay policy
    const played = await audio.evaluate(async (el: HTMLAudioElement) => {
      el.muted = true
      await el.play()
      await new Promise((r) => setTimeout(r, 700))
      return { time: el.currentTime, duration: el.duration }
    })
    expect(played.time).toBeGreaterThan(0)
    expect(played.duration).toBeGreaterThan(2) // the demo clips are three seconds

    // the embedding map of the same split: a lasso around all of it selects every clip
    await page.getByTestId('nav').getByText('Embeddings').click()
    const layer = page.getByTestId('lasso-layer')
    await layer.waitFor()
    await page.locator('input[name=show-lines]').check()
    const box = (await layer.boundingBox())!
    const corners: [number, number][] = [
      [box.x + 2, box.y + 2],
      [box.x + box.width - 2, box.y + 2],
      [box.x + box.width - 2, box.y + box.height - 2],
      [box.x + 2, box.y + box.height - 2]
    ]
    await page.mouse.move(...corners[0])
    await page.mouse.down()
    for (const c of corners.slice(1)) await page.mouse.move(...c, { steps: 8 })
    await page.mouse.up()
    await page.getByTestId('selection-count').getByText(`${TRAIN_CLIPS} clips selected`).waitFor()
    await expect(page.getByTestId('selection-list').locator('li').count()).resolves.toBe(TRAIN_CLIPS)

    // a lasso inside the map's empty margin selects nothing
    await page.mouse.move(box.x + 2, box.y + 2)
    await page.mouse.down()
    for (const [x, y] of [[12, 2], [12, 12], [2, 12]]) await page.mouse.move(box.x + x, box.y + y, { steps: 3 })
    await page.mouse.up()
    await page.getByTestId('selection-count').getByText('0 clips selected').waitFor()
    await expect(page.getByTestId('selection-list').locator('li').count()).resolves.toBe(0)

    // all again; a listed clip opens in the Datasets inspector
    await page.mouse.move(...corners[0])
    await page.mouse.down()
    for (const c of corners.slice(1)) await page.mouse.move(...c, { steps: 8 })
    await page.mouse.up()
    await page.getByTestId('selection-count').getByText(`${TRAIN_CLIPS} clips selected`).waitFor()
    const first = page.getByTestId('selection-list').locator('a').first()
    const id = (await first.textContent())!.trim()
    await first.click()
    await page.waitForURL(/#\/datasets\/demo\?clip=/)
    await page.getByTestId('clip-inspector').getByText(id).first().waitFor()

    // the runs table shows the run's latest R@1 and sorts by it; runs compared on one chart
    await page.getByTestId('nav').getByText('Runs').click()
    const row = page.getByTestId('runs-table').locator('tr', { hasText: 'tiny-run' })
    await row.waitFor()
    const summary = (await page.evaluate(() => fetch('/api/retrieval.summary', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ run: 'tiny-run', dataset: 'demo', split: 'train' }) }).then((r) => r.json()))) as { a2v: { 'R@1': number } }
    await row.getByText(summary.a2v['R@1'].toFixed(1)).first().waitFor()
    const sortA2v = page.getByTestId('runs-table').locator('th[data-sort="a2v.R@1"]')
    await sortA2v.click()
    await sortA2v.getByText('▼').waitFor()
    await page.getByTestId('runs-compare').getByLabel('tiny-run').check()
    await page.getByTestId('runs-compare').locator('canvas').first().waitFor()
  }, 150_000)
})
