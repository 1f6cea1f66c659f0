/// <reference lib="dom" />
/**
 * Playback in the clip inspector (Chromium against `equiav serve`): files Chromium cannot play (cinepak and
 * msvideo1 in Matroska, MJPEG / 8-bit PCM and H.264 in AVI) are transcoded once and play, the inspector
 * saying it shows a transcode and of what; a clip whose file no longer opens says why instead of a black
 * player.
 */
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Catalog } from '../../src/main/data/catalog'
import { importFolder } from '../../src/main/data/importers/folder'
import { createMediaDir, type MediaDir } from '../helpers/media'
import { type Workbench, openWorkbench, tempWorkspace } from './harness'

let wb: Workbench
let media: MediaDir
let folder: string
let workspace: string

beforeAll(async () => {
  media = createMediaDir('equiav-e2e-playback-')
  folder = join(media.dir, 'footage')
  mkdirSync(join(folder, 'x'), { recursive: true })
  await media.makeAll([
    { name: 'footage/x/cinepak.mkv', duration: 2, video: { codec: 'cinepak' }, audio: { codec: 'pcm_u8', sampleRate: 8000 } },
    { name: 'footage/x/msvideo1.mkv', duration: 2, video: { codec: 'msvideo1' } },
    { name: 'footage/x/mjpeg.avi', duration: 2, video: { codec: 'mjpeg', pixFmt: 'yuvj420p' }, audio: { codec: 'pcm_u8' } },
    { name: 'footage/x/h264.avi', duration: 2, video: { codec: 'libx264' } },
    { name: 'footage/x/overwritten.avi', duration: 2, video: { codec: 'mjpeg', pixFmt: 'yuvj420p' } }
  ])
  workspace = tempWorkspace()
  const catalog = Catalog.open(join(workspace, 'datasets', 'real'))
  await importFolder({ root: folder, catalog, testFraction: 0 })
  catalog.close()
  // replaced by noise after import: it no longer probes
  writeFileSync(join(folder, 'x', 'overwritten.avi'), Buffer.alloc(50_000, 7))
  wb = await openWorkbench(workspace)
}, 180_000)

afterAll(async () => {
  await wb?.close()
  media?.cleanup()
})

describe('clip playback (serve mode, Chromium)', () => {
  const cases = [
    ['x/cinepak.mkv', 'cinepak video and pcm_u8 audio in Matroska'],
    ['x/msvideo1.mkv', 'msvideo1 video and mp3 audio in Matroska'],
    ['x/mjpeg.avi', 'mjpeg video and pcm_u8 audio in AVI'],
    ['x/h264.avi', 'h264 video and pcm_s16le audio in AVI']
  ] as const

  it('plays clips Chromium cannot play as transcodes, with progress first, saying so: currentTime advances', async () => {
    const page = await wb.browser.newPage({ viewport: { width: 1400, height: 1000 } })
    await page.goto(wb.url)
    for (const [id, original] of cases) {
      await page.goto(`${wb.url}#/datasets/real?clip=${encodeURIComponent(id)}`)
      const inspector = page.getByTestId('clip-inspector')
      await inspector.getByRole('heading', { name: id }).waitFor()
      // a fresh server answers the first request for a clip with its queued transcode
      if (id === cases[0][0]) await inspector.getByTestId('playback-progress').getByText(/queued for transcoding…|transcoding… \d+%/).waitFor()
      await inspector.getByTestId('playback-transcode').getByText(original).waitFor({ timeout: 60_000 })
      const video = inspector.getByTestId('clip-video')
      const played = await video.evaluate(async (v: HTMLVideoElement) => {
        v.muted = true
        await v.play()
        await new Promise<void>((done) => {
          const check = (): void => (v.currentTime > 0.5 ? done() : void setTimeout(check, 50))
          check()
        })
        return { currentTime: v.currentTime, width: v.videoWidth, height: v.videoHeight, error: v.error?.message ?? null }
      })
      expect(played, id).toMatchObject({ width: 64, height: 48, error: null })
      expect(played.currentTime, id).toBeGreaterThan(0.5)
      await expect(inspector.getByTestId('playback-error').count()).resolves.toBe(0)
    }
    await page.close()
  }, 150_000)

  it('prunes the transcode of a file edited since it was made, saying what it freed', async () => {
    const playback = join(workspace, 'datasets', 'real', 'playback')
    expect(readdirSync(playback).filter((f) => f.endsWith('.mp4'))).toHaveLength(cases.length)
    // the file edited (a new modification time): its transcode is of a version no clip has any more
    utimesSync(join(folder, 'x', 'h264.avi'), new Date(), new Date(Date.now() + 60_000))
    const page = await wb.browser.newPage({ viewport: { width: 1400, height: 1000 } })
    await page.goto(wb.url)
    await page.getByTestId('nav').getByText('Datasets', { exact: true }).click()
    await page.getByTestId('datasets-table').getByText('real', { exact: true }).click()
    const prune = page.getByTestId('prune-cache')
    await prune.getByRole('button', { name: 'Prune cached copies' }).click()
    await expect(prune.getByTestId('prune-cache-result').textContent({ timeout: 30_000 })).resolves.toMatch(/^playback\/\s+1 file, \d+ KiB freed · thumbs\/\s+0 files, 0 KiB freed$/)
    expect(readdirSync(playback).filter((f) => f.endsWith('.mp4'))).toHaveLength(cases.length - 1)
    await page.close()
  }, 60_000)

  it('says why a clip whose file no longer opens cannot be played', async () => {
    const page = await wb.browser.newPage()
    await page.goto(wb.url)
    await page.goto(`${wb.url}#/datasets/real?clip=${encodeURIComponent('x/overwritten.avi')}`)
    const message = page.getByTestId('clip-inspector').getByTestId('playback-error')
    await message.waitFor({ timeout: 30_000 })
    expect(await message.textContent()).toMatch(/cannot be probed/)
    await expect(page.getByTestId('clip-video').count()).resolves.toBe(0)
    await page.close()
  }, 60_000)
})
