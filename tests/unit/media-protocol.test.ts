import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createApiServer } from '../../src/main/api/http'
import type { MediaHandler, MediaReply } from '../../src/main/api/media'
import { mediaProtocolHandler } from '../../src/main/api/media-protocol'
import type { Router } from '../../src/main/api/router'

const dir = mkdtempSync(join(tmpdir(), 'equiav-protocol-'))
const file = join(dir, 'clip.bin')
writeFileSync(file, Buffer.from('0123456789'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("Electron's equiav-media: protocol", () => {
  it('passes the path and range to the media handler and answers with its status, headers and bytes', async () => {
    const seen: [string, string | undefined][] = []
    const media: MediaHandler = async (pathname, range): Promise<MediaReply> => {
      seen.push([pathname, range])
      if (pathname.endsWith('/video')) return { status: 206, headers: { 'Content-Type': 'video/mp4', 'Content-Range': 'bytes 2-5/10' }, body: { path: file, start: 2, end: 5 } }
      return { status: 404, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('no clip') }
    }
    const handle = mediaProtocolHandler(media)
    const part = await handle(new Request('equiav-media://workbench/media/d/a%2Fb.mp4/video', { headers: { range: 'bytes=2-5' } }))
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe('bytes 2-5/10')
    expect(await part.text()).toBe('2345')
    const missing = await handle(new Request('equiav-media://workbench/media/d/x/thumb.jpg'))
    expect(missing.status).toBe(404)
    expect(await missing.text()).toBe('no clip')
    expect(seen).toEqual([
      ['/media/d/a%2Fb.mp4/video', 'bytes=2-5'],
      ['/media/d/x/thumb.jpg', undefined]
    ])
  })
})

/** Waits until `done()` holds, checking every 10 ms (a stream's close comes a tick after its last byte). */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((ok) => setTimeout(ok, 10))
}

describe('a transcode held while it is streamed', () => {
  const big = join(dir, 'big.mp4')
  writeFileSync(big, Buffer.alloc(16 << 20, 1))
  /** a media handler streaming `path` whole, counting the releases of its hold */
  function held(path: string) {
    const counts = { released: 0 }
    const media: MediaHandler = async () => ({ status: 200, headers: { 'Content-Type': 'video/mp4' }, body: { path, start: 0, end: 16 << 20, release: () => counts.released++ } })
    return { counts, media }
  }

  it('is released by the equiav-media: protocol when the stream is read to its end or cancelled', async () => {
    const whole = held(file)
    expect(await (await mediaProtocolHandler(whole.media)(new Request('equiav-media://workbench/media/d/c/video'))).text()).toBe('0123456789')
    await until(() => whole.counts.released > 0)
    const cut = held(big)
    const r = await mediaProtocolHandler(cut.media)(new Request('equiav-media://workbench/media/d/c/video'))
    const reader = r.body!.getReader()
    await reader.read()
    expect(cut.counts.released).toBe(0)
    await reader.cancel()
    await until(() => cut.counts.released > 0)
    expect([whole.counts.released, cut.counts.released]).toEqual([1, 1])
  })

  it('is released by the HTTP server when the response ends or the client goes', async () => {
    const token = 't'.repeat(32)
    const serve = async (media: MediaHandler, fn: (url: string) => Promise<void>): Promise<void> => {
      const server = createApiServer({ router: (async () => null) as unknown as Router, token, staticDir: dir, media })
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
      try {
        await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/media/d/c/video`)
      } finally {
        server.closeAllConnections()
        await new Promise<void>((ok) => server.close(() => ok()))
      }
    }
    const headers = { Authorization: `Bearer ${token}` }
    const whole = held(file)
    await serve(whole.media, async (url) => {
      expect(await (await fetch(url, { headers })).text()).toBe('0123456789')
      await until(() => whole.counts.released > 0)
    })
    const cut = held(big)
    await serve(cut.media, async (url) => {
      const stop = new AbortController()
      const r = await fetch(url, { headers, signal: stop.signal })
      await r.body!.getReader().read()
      expect(cut.counts.released).toBe(0)
      stop.abort()
      await until(() => cut.counts.released > 0)
    })
    expect([whole.counts.released, cut.counts.released]).toEqual([1, 1])
  })
})
