/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Curation in the Datasets view, in Chromium against `equiav serve`: the thumbnail grid (remembered, hover
 * frames, audio on click) driven by the keyboard (arrows, `e` to exclude, Enter, `x`); a multi-selection
 * relabelled and moved in bulk, read back from the catalog; search, sort and a saved view re-applied; a clip
 * opened from a link scrolled to and highlighted in a 5,000-clip catalog, under a sort, in table and grid.
 */
import { mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Catalog } from '../../src/main/data/catalog'
import { importFolder } from '../../src/main/data/importers/folder'
import { createMediaDir, type MediaDir } from '../helpers/media'
import { type Workbench, openWorkbench, tempWorkspace, writeBigCatalog } from './harness'

let wb: Workbench
let media: MediaDir
const BIG = 5000

beforeAll(async () => {
  media = createMediaDir('equiav-e2e-curation-')
  const folder = join(media.dir, 'sounds')
  // bell/b1–b4 and bird/w1–w3, each its own length and colour
  const specs = [
    ...[0.5, 1, 1.5, 2].map((d, i) => ({ dir: 'bell', name: `b${i + 1}.mp4`, duration: d, color: ['red', 'green', 'blue', 'yellow'][i] })),
    ...[0.6, 1.2, 1.8].map((d, i) => ({ dir: 'bird', name: `w${i + 1}.mp4`, duration: d, color: ['white', 'purple', 'orange'][i] }))
  ]
  const made = await media.makeAll(specs.map((s) => ({ name: s.name, duration: s.duration, video: { color: s.color } })))
  specs.forEach((s, i) => {
    mkdirSync(join(folder, s.dir), { recursive: true })
    renameSync(made[i], join(folder, s.dir, s.name))
  })
  const workspace = tempWorkspace()
  const curate = Catalog.open(join(workspace, 'datasets', 'curate'))
  await importFolder({ root: folder, catalog: curate, testFraction: 0.3 })
  curate.close()
  // a large catalog without media
  writeBigCatalog(workspace, 'big', BIG)
  wb = await openWorkbench(workspace)
}, 180_000)

afterAll(async () => {
  await wb?.close()
  media?.cleanup()
})

async function openDataset(name: string): Promise<Page> {
  const page = await wb.browser.newPage({ viewport: { width: 1400, height: 1000 } })
  await page.goto(wb.url)
  await page.getByTestId('nav').getByText('Datasets', { exact: true }).click()
  await page.getByTestId('datasets-table').getByText(name, { exact: true }).click()
  return page
}

/** an API call from the page (cookie auth) */
const call = <T>(page: Page, method: string, input: object): Promise<T> =>
  page.evaluate(
    async ([m, i]) => {
      const r = await fetch(`/api/${m}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(i) })
      return (await r.json()) as unknown
    },
    [method, input] as const
  ) as Promise<T>

type Row = { id: string; labels: number[]; split: string | null; excluded: boolean }
const catalogRows = async (page: Page, dataset: string): Promise<Row[]> => (await call<{ rows: Row[] }>(page, 'datasets.clips', { dataset, limit: 1000 })).rows

const tableIds = (page: Page): Promise<string[]> => page.getByTestId('clip-table').locator('.row .c-id').allTextContents()

describe('curation (serve mode, Chromium)', () => {
  it('grid: remembered, thumbnails, hover frames, audio on click; arrows move the focus, e excludes and includes, Enter inspects, x selects', async () => {
    const page = await openDataset('curate')
    await page.locator('input[name=clip-layout][value=grid]').check()
    // the choice is remembered in this browser
    await page.reload()
    await page.getByTestId('datasets-table').getByText('curate', { exact: true }).click()
    const grid = page.getByTestId('clip-grid')
    await grid.locator('.tile[data-index="6"]').waitFor({ timeout: 15_000 })
    await page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll<HTMLImageElement>('[data-testid=clip-grid] img')]
      return imgs.length === 7 && imgs.every((i) => i.complete && i.naturalWidth > 0)
    }, undefined, { timeout: 30_000 })

    // hover: the sampled frames in turn (decoded, drawn), in place of the thumbnail
    const first = grid.locator('.tile[data-index="0"]')
    await first.hover()
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid=clip-grid] .tile[data-index="0"] img')
      return img !== null && /\/frame\/\d+\.png$/.test(img.src) && img.complete && img.naturalWidth > 0
    }, undefined, { timeout: 30_000 })
    // audio on click: marked while it plays, unmarked when it ends
    const sound = first.getByTestId('tile-audio')
    await sound.click()
    await expect.poll(() => sound.getAttribute('class')).toMatch(/\bon\b/)
    await expect.poll(() => sound.getAttribute('class'), { timeout: 10_000 }).not.toMatch(/\bon\b/)

    await first.click()
    const focused = async (): Promise<number> => Number(await grid.locator('.tile.focused').getAttribute('data-index'))
    expect(await focused()).toBe(0)
    const perRow = await grid.locator('.tile').evaluateAll((ts) => ts.filter((t) => t.getBoundingClientRect().top === ts[0].getBoundingClientRect().top).length)
    expect(perRow).toBeGreaterThan(1)
    await page.keyboard.press('ArrowRight')
    expect(await focused()).toBe(1)
    await page.keyboard.press('ArrowDown')
    const at = 1 + perRow
    expect(await focused()).toBe(at)
    await page.keyboard.press('ArrowLeft')
    await page.keyboard.press('ArrowRight')
    expect(await focused()).toBe(at)

    // e: excluded (the tile says so, and so does the catalog), e again: included
    const tile = grid.locator(`.tile[data-index="${at}"]`)
    const id = (await tile.getAttribute('data-clip'))!
    await page.keyboard.press('e')
    await tile.getByText('excluded').waitFor()
    expect(await tile.getAttribute('class')).toMatch(/\bexcluded\b/)
    expect(await call<Row>(page, 'datasets.clip', { dataset: 'curate', clip: id })).toMatchObject({ excluded: true })
    await page.keyboard.press('e')
    await expect.poll(() => tile.getAttribute('class')).not.toMatch(/\bexcluded\b/)
    expect(await call<Row>(page, 'datasets.clip', { dataset: 'curate', clip: id })).toMatchObject({ excluded: false })

    // Enter inspects the focused clip; x selects it
    await page.keyboard.press('Enter')
    await page.getByTestId('clip-inspector').getByRole('heading', { name: id }).waitFor()
    await grid.focus()
    await page.keyboard.press('x')
    await expect.poll(() => tile.getAttribute('class')).toMatch(/\bselected\b/)
    await page.getByTestId('bulk-bar').getByText('1 selected').waitFor()
    await expect(page.getByTestId('clip-keys').textContent()).resolves.toMatch(/e exclude\/include · x select/)
    await page.close()
  }, 150_000)

  it('relabels and moves a multi-selection (click, shift-click, ctrl-click) in bulk: the primary label replaced, the catalog changed, nothing else', async () => {
    const page = await openDataset('curate')
    const table = page.getByTestId('clip-table')
    await table.locator('.row[data-index="6"]').waitFor({ timeout: 15_000 })
    const before = await catalogRows(page, 'curate')
    await table.locator('.row[data-index="0"]').click()
    await table.locator('.row[data-index="2"]').click({ modifiers: ['Shift'] })
    await table.locator('.row[data-index="4"]').click({ modifiers: ['Control'] })
    const bar = page.getByTestId('bulk-bar')
    await bar.getByText('4 selected').waitFor()
    expect(await table.locator('.row.selected').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-index'))))).toEqual([0, 1, 2, 4])

    const info = await call<{ classes: string[] }>(page, 'datasets.info', { dataset: 'curate' })
    const bird = info.classes.indexOf('bird')
    await bar.locator('select[name=bulk-primary]').selectOption({ label: 'bird' })
    await bar.locator('button[name=bulk-relabel]').click()
    await bar.locator('select[name=bulk-split]').selectOption('val')
    await bar.locator('button[name=bulk-move]').click()
    for (const i of [0, 1, 2, 4]) await table.locator(`.row[data-index="${i}"] .c-split`).getByText('val').waitFor()
    const shown = await table.locator('.row .c-labels').allTextContents()
    for (const i of [0, 1, 2, 4]) expect(shown[i]).toBe('bird')

    const chosen = new Set([0, 1, 2, 4].map((i) => before[i].id))
    const after = await catalogRows(page, 'curate')
    for (const [i, r] of after.entries()) {
      if (chosen.has(r.id)) expect(r).toMatchObject({ labels: [bird], split: 'val', excluded: false })
      else expect(r).toEqual(before[i])
    }
    // Escape clears the selection, and the bar goes
    await table.focus()
    await page.keyboard.press('Escape')
    await bar.waitFor({ state: 'detached' })
    await page.close()
  }, 90_000)

  it('searches by clip id, sorts by duration descending, saves that view and re-applies it', async () => {
    const page = await openDataset('curate')
    const table = page.getByTestId('clip-table')
    await table.locator('.row[data-index="6"]').waitFor({ timeout: 15_000 })
    await page.fill('input[name=clip-search]', 'w')
    await expect.poll(async () => (await tableIds(page)).sort()).toEqual(['bird/w1.mp4', 'bird/w2.mp4', 'bird/w3.mp4'])
    await page.selectOption('select[name=sort-by]', 'duration')
    await page.check('input[name=sort-desc]')
    await expect.poll(() => tableIds(page)).toEqual(['bird/w3.mp4', 'bird/w2.mp4', 'bird/w1.mp4'])
    const durations = (await table.locator('.row .c-dur').allTextContents()).map(Number)
    expect(durations).toEqual([...durations].sort((a, b) => b - a))

    await page.fill('input[name=saved-view-name]', 'long birds first')
    await page.getByTestId('saved-views').getByRole('button', { name: 'save view' }).click()
    // back to everything in import order
    await page.fill('input[name=clip-search]', '')
    await page.selectOption('select[name=sort-by]', 'import')
    await page.uncheck('input[name=sort-desc]')
    await expect.poll(async () => (await tableIds(page)).length).toBe(7)
    await page.selectOption('select[name=saved-view]', '')
    // the saved view: search, sort and order back
    await page.selectOption('select[name=saved-view]', 'long birds first')
    await expect.poll(() => tableIds(page)).toEqual(['bird/w3.mp4', 'bird/w2.mp4', 'bird/w1.mp4'])
    expect(await page.inputValue('input[name=clip-search]')).toBe('w')
    expect(await page.inputValue('select[name=sort-by]')).toBe('duration')
    expect(await page.isChecked('input[name=sort-desc]')).toBe(true)
    // search by label name: 'bell' is no clip id's substring but a class name
    await page.fill('input[name=clip-search]', 'ELL')
    await expect.poll(async () => (await tableIds(page)).sort()).toEqual((await catalogRows(page, 'curate')).filter((r) => r.id.startsWith('bell/') || r.labels.includes(0)).map((r) => r.id).sort())
    await page.getByTestId('saved-views').getByRole('button', { name: 'delete' }).click()
    await expect(page.locator('select[name=saved-view] option').allTextContents()).resolves.toEqual(['no saved views'])
    await page.close()
  }, 90_000)

  it('scrolls to and highlights a clip opened from a link, at its place under the current sort, in the table and in the grid', async () => {
    const page = await openDataset('big')
    await page.getByText(`${BIG.toLocaleString('en-US')} clips`).waitFor({ timeout: 20_000 })
    await page.selectOption('select[name=sort-by]', 'id')
    await page.check('input[name=sort-desc]')
    const target = 'c003210.mp4'
    const index = BIG - 1 - 3210 // its place in descending id order
    // the link the embedding map and retrieval views open
    await page.evaluate((t) => (location.hash = `#/datasets/big?clip=${t}`), target)
    await page.getByTestId('clip-inspector').getByRole('heading', { name: target }).waitFor({ timeout: 20_000 })
    const inView = async (list: string, item: string): Promise<boolean> =>
      page.evaluate(
        ([l, it]) => {
          const box = document.querySelector(`[data-testid=${l}]`)!.getBoundingClientRect()
          const el = document.querySelector(`[data-testid=${l}] ${it}.located`)
          if (!el) return false
          const r = el.getBoundingClientRect()
          return r.top >= box.top && r.bottom <= box.bottom
        },
        [list, item] as const
      )
    const row = page.getByTestId('clip-table').locator('.row.located')
    await row.waitFor({ timeout: 10_000 })
    expect(await row.getAttribute('data-index')).toBe(String(index))
    expect(await row.locator('.c-id').textContent()).toBe(target)
    expect(await inView('clip-table', '.row')).toBe(true)

    await page.locator('input[name=clip-layout][value=grid]').check()
    const tile = page.getByTestId('clip-grid').locator('.tile.located')
    await tile.waitFor({ timeout: 10_000 })
    expect(await tile.getAttribute('data-index')).toBe(String(index))
    expect(await tile.getAttribute('data-clip')).toBe(target)
    expect(await inView('clip-grid', '.tile')).toBe(true)
    await page.close()
  }, 90_000)
})
