/**
 * `equiav serve` against a careful user and an attacker (issue 13): requests that used to crash the
 * server, cross-origin and rebinding calls, media behind symlinks, and a property-based fuzz of the API's
 * inputs (never a crash, always a status with a named error).
 */
import { copyFileSync, mkdirSync, renameSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import fc from 'fast-check'
import { WebSocket } from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiServer } from '../../src/main/api/http'
import { createMediaHandler } from '../../src/main/api/media'
import { createRouter } from '../../src/main/api/router'
import { workspaceServices } from '../../src/main/api/services'
import { EventHub } from '../../src/main/api/events'
import { attachEventSocket } from '../../src/main/api/ws'
import { Catalog } from '../../src/main/data/catalog'
import { DatasetCatalogs } from '../../src/main/data/datasets'
import { importFolder } from '../../src/main/data/importers/folder'
import { JobRunner } from '../../src/main/jobs/runner'
import type { EngineLauncher } from '../../src/main/jobs/launcher'
import { METHODS } from '../../src/shared/methods'
import { type MediaWhat, mediaPath } from '../../src/shared/media'
import { createMediaDir, type MediaDir } from '../helpers/media'

let media: MediaDir
let workspace: string
let server: ReturnType<typeof createApiServer>
let port: number
let base: string
const token = 'd'.repeat(48)
const SECRET = 'root:x:0:0:secret line\n'
const bearer = { authorization: `Bearer ${token}` }
const json = { 'content-type': 'application/json' }

/** An engine that never runs anything: the fuzz may hit job-starting methods. */
const deadEngine: EngineLauncher = () => {
  let exit: (code: number | null, signal: string | null) => void = () => undefined
  setImmediate(() => exit(1, null))
  return { send: () => undefined, onMessage: () => undefined, onStderr: () => undefined, onExit: (cb) => void (exit = cb), running: () => false, kill: () => undefined, pid: undefined, detach: () => undefined }
}

/** One raw HTTP/1.1 exchange (any request target, any header): the status line's code and the body. */
function raw(request: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const s = connect(port, '127.0.0.1', () => s.write(request))
    let out = ''
    s.on('data', (d) => (out += d.toString()))
    s.on('end', () => {
      const [head, ...body] = out.split('\r\n\r\n')
      ok({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), body: body.join('\r\n\r\n') })
    })
    s.on('error', fail)
  })
}

const line = (target: string, headers: string[] = []): string => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${headers.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n`

async function stillServing(): Promise<void> {
  const r = await fetch(`${base}/api/app.info`, { method: 'POST', headers: { ...bearer, ...json }, body: '{}' })
  expect(r.status).toBe(200)
}

beforeAll(async () => {
  media = createMediaDir('equiav-serve-hardening-')
  workspace = join(media.dir, 'ws')
  const src = join(media.dir, 'src')
  mkdirSync(join(src, 'cat'), { recursive: true })
  mkdirSync(join(src, 'dog'), { recursive: true })
  const [a, b, c, d] = await media.makeAll([
    { name: 'a.mp4', duration: 1 },
    { name: 'b.mp4', duration: 1, audio: { frequencies: [880] } },
    { name: 'c.mp4', duration: 1, audio: { frequencies: [660] } },
    { name: 'd.mp4', duration: 1, audio: { frequencies: [550] } }
  ])
  renameSync(a, join(src, 'cat', 'a.mp4'))
  renameSync(b, join(src, 'dog', 'b.mp4'))
  renameSync(c, join(src, 'dog', 'c.mp4'))
  // a clip kept elsewhere and linked into the folder: a legitimate symlink, served while it leads there
  mkdirSync(join(media.dir, 'elsewhere'))
  renameSync(d, join(media.dir, 'elsewhere', 'd.mp4'))
  symlinkSync(join(media.dir, 'elsewhere', 'd.mp4'), join(src, 'cat', 'linked.mp4'))
  writeFileSync(join(src, 'dog', 'empty.mp4'), '')
  writeFileSync(join(media.dir, 'passwd'), SECRET.repeat(10))
  symlinkSync(join(media.dir, 'passwd'), join(src, 'dog', 'passwd.mp4'))
  const catalog = Catalog.open(join(workspace, 'datasets', 'd'))
  await importFolder({ root: src, catalog, testFraction: 0 })
  catalog.close()
  mkdirSync(join(workspace, 'static'))
  writeFileSync(join(workspace, 'static', 'index.html'), '<!doctype html><title>wb</title>')
  const catalogs = new DatasetCatalogs(workspace)
  const router = createRouter(workspaceServices(workspace, '1', new JobRunner(workspace, 10, deadEngine), catalogs))
  server = createApiServer({ router, token, staticDir: join(workspace, 'static'), media: createMediaHandler(workspace, catalogs) })
  attachEventSocket(server, new EventHub(), token)
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  port = (server.address() as AddressInfo).port
  base = `http://127.0.0.1:${port}`
}, 60_000)

afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((ok) => server.close(() => ok()))
  media.cleanup()
})

describe('no request stops the server', () => {
  it('answers an unparsable request target, malformed escapes and a 0-byte clip with a status and a reason', async () => {
    expect(await raw(line('http://['))).toMatchObject({ status: 400, body: expect.stringMatching(/malformed request target/) })
    expect(await raw(line('http://[', [`Authorization: Bearer ${token}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: x', 'Sec-WebSocket-Version: 13']))).toMatchObject({ status: 400 })
    expect(await raw(line(`/%E0%A4%A?token=${token}`))).toMatchObject({ status: 400, body: expect.stringMatching(/malformed % escape/) })
    const api = await fetch(`${base}/api/%ZZ`, { method: 'POST', headers: { ...bearer, ...json }, body: '{}' })
    expect(api.status).toBe(400)
    expect(await api.json()).toEqual({ error: expect.stringMatching(/malformed % escape/) })
    expect((await fetch(`${base}/api-bin/%ZZ/x`, { headers: bearer })).status).toBe(400)
    expect((await fetch(`${base}/media/d/%E0%A4%A/video`, { headers: bearer })).status).toBe(400)
    // the empty file was quarantined at import, so it is not served at all
    const empty = await fetch(`${base}${mediaPath('d', 'dog/empty.mp4', 'video')}`, { headers: bearer })
    expect(empty.status).toBe(422)
    expect(await empty.text()).toMatch(/dog\/empty\.mp4: quarantined/)
    await stillServing()
  })

  it('answers a usable clip whose file was emptied or deleted since import', async () => {
    const file = join(media.dir, 'src', 'dog', 'c.mp4')
    copyFileSync(file, `${file}.bak`)
    truncateSync(file, 0)
    const emptied = await fetch(`${base}${mediaPath('d', 'dog/c.mp4', 'video')}`, { headers: { ...bearer, range: 'bytes=0-' } })
    expect(emptied.status).toBe(422)
    expect(await emptied.text()).toMatch(/dog\/c\.mp4: the file is empty/)
    unlinkSync(file)
    const gone = await fetch(`${base}${mediaPath('d', 'dog/c.mp4', 'video')}`, { headers: bearer })
    expect(gone.status).toBe(404)
    expect(await gone.text()).toMatch(/its file is gone/)
    renameSync(`${file}.bak`, file)
    await stillServing()
  })
})

describe('serve admits only its own page', () => {
  const edit = (headers: Record<string, string>, body = { dataset: 'd', clip: 'cat/a.mp4', excluded: true }): Promise<Response> =>
    fetch(`${base}/api/datasets.edit`, { method: 'POST', headers, body: JSON.stringify(body) })
  const excluded = async (): Promise<boolean> => {
    const r = await fetch(`${base}/api/datasets.clip`, { method: 'POST', headers: { ...bearer, ...json }, body: JSON.stringify({ dataset: 'd', clip: 'cat/a.mp4' }) })
    return ((await r.json()) as { excluded: boolean }).excluded
  }

  it('names the cookie after the port and refuses another port\'s cookie', async () => {
    const page = await fetch(`${base}/?token=${token}`)
    expect(page.headers.get('set-cookie')).toMatch(new RegExp(`^equiav_token_${port}=${token}; HttpOnly; SameSite=Strict`))
    expect((await fetch(`${base}/`, { headers: { cookie: `equiav_token_${port + 1}=${token}` } })).status).toBe(401)
    expect((await fetch(`${base}/`, { headers: { cookie: `equiav_token=${token}` } })).status).toBe(401)
    expect((await fetch(`${base}/`, { headers: { cookie: `equiav_token_${port}=${token}` } })).status).toBe(200)
  })

  it('refuses calls from a page on another origin that rides on the cookie (CSRF), and edits nothing', async () => {
    const cookie = `equiav_token_${port}=${token}`
    // what a page on http://127.0.0.1:<other port> can send: a simple text/plain POST, or JSON with its own Origin
    const plain = await edit({ cookie, 'content-type': 'text/plain', origin: 'http://127.0.0.1:9999', 'sec-fetch-site': 'same-site' })
    expect(plain.status).toBe(403)
    expect(await plain.json()).toEqual({ error: expect.stringMatching(/application\/json/) })
    const foreign = await edit({ cookie, ...json, origin: 'http://127.0.0.1:9999', 'sec-fetch-site': 'same-site' })
    expect(foreign.status).toBe(403)
    expect(await foreign.json()).toEqual({ error: expect.stringMatching(/cross-origin call from http:\/\/127\.0\.0\.1:9999 refused/) })
    // no Origin and not same-origin: the cookie alone does not vouch for the caller
    expect((await edit({ cookie, ...json, 'sec-fetch-site': 'same-site' })).status).toBe(403)
    expect((await edit({ cookie, ...json })).status).toBe(403)
    expect(await excluded()).toBe(false)
    // our own page (Origin, or Sec-Fetch-Site: same-origin), or the token in a header
    expect((await edit({ cookie, ...json, origin: base })).status).toBe(200)
    expect((await edit({ cookie, ...json, 'sec-fetch-site': 'same-origin' }, { dataset: 'd', clip: 'cat/a.mp4', excluded: false })).status).toBe(200)
    expect((await edit({ ...bearer, ...json }, { dataset: 'd', clip: 'cat/a.mp4', excluded: false })).status).toBe(200)
    expect((await edit({ ...bearer, 'content-type': 'text/plain' })).status).toBe(403)
    expect(await excluded()).toBe(false)
  })

  it('refuses a Host that is not the bound address and port (DNS rebinding), on HTTP and on the event socket', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1']) {
      expect((await raw(`GET /?token=${token} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).status, host).toBe(421)
    }
    expect((await raw(`GET /?token=${token} HTTP/1.1\r\nConnection: close\r\n\r\n`)).status).toBe(400) // Node refuses HTTP/1.1 without Host
    expect((await raw(`GET /?token=${token} HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`)).status).toBe(200)
    const handshake = (headers: Record<string, string>): Promise<number> =>
      new Promise((ok) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/events`, { headers })
        ws.on('open', () => {
          ws.close()
          ok(101)
        })
        ws.on('unexpected-response', (_req, res) => ok(res.statusCode ?? 0))
        ws.on('error', () => undefined)
      })
    expect(await handshake({ ...bearer, host: `rebound.example:${port}` })).toBe(421)
    expect(await handshake({ ...bearer, origin: 'http://127.0.0.1:9999' })).toBe(403)
    expect(await handshake(bearer)).toBe(101)
  })
})

describe('media is served only for usable clips, from the file probed at import', () => {
  const video = (clip: string): Promise<Response> => fetch(`${base}${mediaPath('d', clip, 'video')}`, { headers: bearer })

  it('never streams a symlink to a non-media file, nor a clip swapped for a symlink after import', async () => {
    const link = await video('dog/passwd.mp4')
    expect(link.status).toBe(422)
    expect(await link.text()).not.toContain('secret line')
    for (const what of ['audio.wav', 'thumb.jpg', 'spectrogram.png', 'frame/0.png'] as MediaWhat[]) {
      const r = await fetch(`${base}${mediaPath('d', 'dog/passwd.mp4', what)}`, { headers: bearer })
      expect(r.status, what).toBe(422)
    }

    const b = join(media.dir, 'src', 'dog', 'b.mp4')
    expect((await video('dog/b.mp4')).status).toBe(200)
    renameSync(b, `${b}.orig`)
    symlinkSync(join(media.dir, 'passwd'), b)
    try {
      for (const what of ['video', 'audio.wav', 'thumb.jpg'] as MediaWhat[]) {
        const r = await fetch(`${base}${mediaPath('d', 'dog/b.mp4', what)}`, { headers: { ...bearer, range: 'bytes=0-' } })
        expect(r.status, what).toBe(403)
        expect(await r.text()).toMatch(/no longer leads to the file probed at import/)
      }
    } finally {
      unlinkSync(b)
      renameSync(`${b}.orig`, b)
    }
    expect((await video('dog/b.mp4')).status).toBe(200)
  })

  it('serves a clip imported through a symlink while the link still leads to the same file', async () => {
    const r = await video('cat/linked.mp4')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('video/mp4')
  })
})

describe('fuzz: any request gets a status and a reason, never a crash', () => {
  const TARGET_CHARS = [...'abcdefghijklmnopqrstuvwxyz0123456789/%._-~?=&#[]:@!$\'()*+,;ABCDEFZ']

  it('arbitrary request targets, with and without the token', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.constantFrom(...TARGET_CHARS), maxLength: 60 }), fc.boolean(), fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), async (target, withToken, method) => {
        const headers = withToken ? [`Authorization: Bearer ${token}`, 'Content-Type: application/json', 'Content-Length: 2'] : ['Content-Length: 2']
        const r = await raw(`${method} /${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${headers.join('\r\n')}\r\nConnection: close\r\n\r\n{}`)
        expect(r.status).toBeGreaterThanOrEqual(200)
        expect(r.status).toBeLessThan(600)
        if (r.status >= 400) expect(r.body.length).toBeGreaterThan(0)
      }),
      { numRuns: 150 }
    )
    await stillServing()
  })

  it('arbitrary inputs to every API method: 2xx, or 4xx with {error} naming what is wrong', async () => {
    const input = fc.oneof(
      fc.jsonValue(),
      fc.record({ dataset: fc.oneof(fc.constant('d'), fc.string()), clip: fc.oneof(fc.constant('cat/a.mp4'), fc.string()), run: fc.string(), offset: fc.integer(), limit: fc.integer() }, { requiredKeys: [] })
    )
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS, 'nope', '__proto__', 'constructor'), input, async (method, body) => {
        const r = await fetch(`${base}/api/${encodeURIComponent(method)}`, { method: 'POST', headers: { ...bearer, ...json }, body: JSON.stringify(body) })
        if (r.status >= 300) {
          expect(r.status).toBeLessThan(500)
          const err = (await r.json()) as { error: unknown }
          expect(typeof err.error).toBe('string')
          expect(String(err.error).length).toBeGreaterThan(3)
        } else await r.arrayBuffer()
      }),
      { numRuns: 300 }
    )
    await stillServing()
  })

  it('arbitrary bytes as a request body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...METHODS), async (bytes, method) => {
        const r = await fetch(`${base}/api/${method}`, { method: 'POST', headers: { ...bearer, ...json }, body: bytes })
        expect(r.status).toBeLessThan(500)
        if (r.status >= 300) expect(((await r.json()) as { error: string }).error).toMatch(/\w/)
        else await r.arrayBuffer()
      }),
      { numRuns: 150 }
    )
  })
})
