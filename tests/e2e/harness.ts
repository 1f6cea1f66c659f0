/// <reference lib="dom" />
/**
 * `equiav serve` on a temporary workspace and Debian's Chromium driven by playwright-core, for the
 * browser tests. Needs the built renderer (`npm run build`, which CI runs first) and /usr/bin/chromium.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, type Page, chromium } from 'playwright-core'

export const root = fileURLToPath(new URL('../..', import.meta.url))

export interface Workbench {
  workspace: string
  url: string
  browser: Browser
  close(): Promise<void>
}

export function tempWorkspace(): string {
  return mkdtempSync(join(tmpdir(), 'equiav-e2e-'))
}

/** Runs the `equiav` command on a workspace: its stdout and stderr, or an error with its stderr. */
export function equiav(workspace: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [join(root, 'bin/equiav.mjs'), ...args, '--workspace', workspace], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`equiav ${args.join(' ')} failed: ${r.stderr}`)
  return `${r.stdout}\n${r.stderr}`
}

/** of the tiny run workspace's 24 demo clips, 4 go to the test split */
export const TINY_TRAIN_CLIPS = 20

/** A new workspace with a 24-clip demo dataset prepared for `tiny` and a two-step run `tiny-run` on it. */
export function tinyRunWorkspace(): string {
  const workspace = tempWorkspace()
  equiav(workspace, 'dataset', 'create-demo', '--name', 'demo', '--clips', '24')
  equiav(workspace, 'dataset', 'prepare', '--name', 'demo', '--preset', 'tiny')
  equiav(workspace, 'pretrain', '--dataset', 'demo', '--preset', 'tiny', '--steps', '2', '--batch-size', '4', '--run', 'tiny-run')
  return workspace
}

/** `serve` on the workspace and a headless Chromium; close() removes the workspace unless `keep` is set. */
export async function openWorkbench(workspace: string, { keep = false } = {}): Promise<Workbench> {
  const server: ChildProcess = spawn(process.execPath, [join(root, 'bin/equiav.mjs'), 'serve', '--workspace', workspace], { stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise<string>((ok, fail) => {
    server.stdout!.on('data', (d: Buffer) => {
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=\w+/.exec(d.toString())
      if (m) ok(m[0])
    })
    server.once('exit', (code) => fail(new Error(`serve exited with ${code}`)))
  })
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  return {
    workspace,
    url,
    browser,
    async close() {
      await browser.close()
      // the server may still be writing (media caches): remove the workspace only once it has exited
      if (server.exitCode === null && server.signalCode === null) await new Promise((done) => server.once('exit', done).kill())
      if (!keep) rmSync(workspace, { recursive: true, force: true })
    }
  }
}

/** the map's drawn (non-white) pixels, in page coordinates: their bounding box and one pixel of each point-sized blob */
export async function drawnPixels(page: Page): Promise<{ box: { x0: number; y0: number; x1: number; y1: number }; spots: [number, number][] }> {
  const canvas = page.getByTestId('embedding-map').locator('canvas').first()
  const at = (await canvas.boundingBox())!
  const found = await canvas.evaluate((c: HTMLCanvasElement) => {
    const dpr = c.width / c.clientWidth
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
    const spots: [number, number][] = []
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity]
    for (let y = 0; y < c.height; y++) {
      for (let x = 0; x < c.width; x++) {
        const k = 4 * (y * c.width + x)
        if (data[k] > 245 && data[k + 1] > 245 && data[k + 2] > 245) continue
        const [px, py] = [x / dpr, y / dpr]
        ;[x0, y0, x1, y1] = [Math.min(x0, px), Math.min(y0, py), Math.max(x1, px), Math.max(y1, py)]
        if (spots.every(([sx, sy]) => Math.hypot(sx - px, sy - py) > 10)) spots.push([px, py])
      }
    }
    return { box: { x0, y0, x1, y1 }, spots }
  })
  return {
    box: { x0: at.x + found.box.x0, y0: at.y + found.box.y0, x1: at.x + found.box.x1, y1: at.y + found.box.y1 },
    spots: found.spots.map(([x, y]) => [at.x + x, at.y + y])
  }
}

/** moves the pointer onto the first of the spots that shows a hover card: that spot, or null */
export async function hoverAPoint(page: Page, spots: [number, number][]): Promise<[number, number] | null> {
  for (const [x, y] of spots) {
    await page.mouse.move(x, y)
    if (await page.getByTestId('hover-card').isVisible()) return [x, y]
  }
  return null
}
