import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { MediaHandler, MediaReply } from '../../src/main/api/media'
import { mediaProtocolHandler } from '../../src/main/api/media-protocol'

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
