import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiServer, isLoopback } from '../../src/main/api/http'
import { type IpcMainLike, channelOf, registerIpc } from '../../src/main/api/ipc'
import { ApiError, createRouter } from '../../src/main/api/router'
import { workspaceServices } from '../../src/main/api/services'
import { JobRunner } from '../../src/main/jobs/runner'
import { WEB_PREFERENCES, isTrustedUrl } from '../../src/main/security'
import { METHODS } from '../../src/shared/methods'

const workspace = mkdtempSync(join(tmpdir(), 'equiav-api-'))
const staticDir = join(workspace, 'static')
const router = createRouter(workspaceServices(workspace, '9.9.9', new JobRunner(workspace)))
const row = (step: number): string =>
  JSON.stringify({ step, epoch: 0, loss: 3 - step / 10, loss_inter: 1, loss_intra_a: 1, loss_intra_v: 1, lr: 1e-4, grad_norm: 0.5, clips_per_s: 9, time: 't' })

beforeAll(() => {
  const run = join(workspace, 'runs', 'r1')
  mkdirSync(run, { recursive: true })
  writeFileSync(
    join(run, 'config.json'),
    JSON.stringify({ preset: 'tiny', objective: 'equiav', totalSteps: 10, created: 'now', data: { describe: 'synthetic' }, backend: { name: 'wasm' } })
  )
  writeFileSync(join(run, 'metrics.jsonl'), [row(1), row(2), row(3)].join('\n') + '\n' + '{"step":4,"ep') // a line being written
  mkdirSync(staticDir, { recursive: true })
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>wb</title>')
  writeFileSync(join(workspace, 'secret.txt'), 'outside the static folder')
})
afterAll(() => rmSync(workspace, { recursive: true, force: true }))

describe('router', () => {
  it('serves valid calls and validates their output', async () => {
    expect(await router('app.info', {})).toEqual({ version: '9.9.9', workspace })
    const runs = (await router('runs.list', {})) as { name: string; last: { step: number } }[]
    expect(runs).toHaveLength(1)
    expect(runs[0]).toMatchObject({ name: 'r1', last: { step: 3 } }) // the half-written line is not read
    expect(await router('runs.metrics', { run: 'r1', since: 2 })).toMatchObject({ rows: [{ step: 3 }], next: 3 })
  })
  it('rejects bad input with a message naming the field', async () => {
    await expect(router('runs.metrics', { run: '../etc' })).rejects.toThrow(/runs.metrics: run: a run name/)
    await expect(router('runs.metrics', { run: 'r1', since: -1 })).rejects.toThrow(/since:/)
    await expect(router('runs.list', { extra: 1 })).rejects.toThrow(/runs.list: input: Unrecognized key/)
    await expect(router('fs.delete', {})).rejects.toBeInstanceOf(ApiError)
    await expect(router('jobs.start', { kind: 'pretrain', args: { run: 'x', steps: 0 } })).rejects.toThrow(/args.steps: .*>=1/)
    await expect(router('jobs.start', { kind: 'shell', args: {} })).rejects.toThrow(/kind:/)
    await expect(router('jobs.cancel', { id: 'nope' })).rejects.toThrow(/jobs.cancel: no job nope/)
  })
})

describe('IPC transport', () => {
  it('registers one channel per method and refuses untrusted frames', async () => {
    const handlers = new Map<string, Parameters<IpcMainLike['handle']>[1]>()
    registerIpc({ handle: (c, l) => handlers.set(c, l) }, router, (url) => isTrustedUrl(url))
    expect([...handlers.keys()].sort()).toEqual(METHODS.map(channelOf).sort())
    const call = handlers.get(channelOf('app.info'))!
    expect(await call({ senderFrame: { url: 'file:///app/out/renderer/index.html' } }, {})).toMatchObject({ version: '9.9.9' })
    await expect(call({ senderFrame: { url: 'https://evil.example/' } }, {})).rejects.toThrow(/untrusted frame/)
    await expect(call({ senderFrame: null }, {})).rejects.toThrow(/untrusted frame/)
  })
})

describe('serve transport', () => {
  const token = 'a'.repeat(48)
  let base: string
  const server = createApiServer({ router, token, staticDir })
  beforeAll(async () => {
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())))

  it('answers 401 without the right token, and 200 with it (query, bearer, then cookie)', async () => {
    expect((await fetch(`${base}/`)).status).toBe(401)
    expect((await fetch(`${base}/?token=wrong`)).status).toBe(401)
    expect((await fetch(`${base}/api/app.info`, { method: 'POST' })).status).toBe(401)
    const page = await fetch(`${base}/?token=${token}`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/)
    const cookie = page.headers.get('set-cookie')!.split(';')[0]
    expect(cookie).toBe(`equiav_token_${new URL(base).port}=${token}`)
    const viaCookie = await fetch(`${base}/api/runs.list`, { method: 'POST', headers: { cookie, origin: base, 'content-type': 'application/json' }, body: '{}' })
    expect(viaCookie.status).toBe(200)
    const viaBearer = await fetch(`${base}/api/runs.metrics`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"run":"r1"}' })
    expect(((await viaBearer.json()) as { next: number }).next).toBe(3)
  })

  it('reports bad calls with a status and a message, and never serves files outside its folder', async () => {
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    const bad = await fetch(`${base}/api/runs.metrics`, { method: 'POST', headers: auth, body: '{"run":"../x"}' })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: string }).error).toMatch(/run: a run name/)
    expect((await fetch(`${base}/api/nope`, { method: 'POST', headers: auth })).status).toBe(404)
    expect((await fetch(`${base}/api/runs.list`, { method: 'POST', headers: auth, body: '{not json' })).status).toBe(400)
    expect((await fetch(`${base}/..%2fsecret.txt`, { headers: auth })).status).toBe(404)
    expect((await fetch(`${base}/%2e%2e/secret.txt`, { headers: auth })).status).toBe(404)
  })

  it('binds loopback only unless remote access is asked for', () => {
    expect(['127.0.0.1', 'localhost', '::1'].every(isLoopback)).toBe(true)
    expect(['0.0.0.0', '192.168.1.2', '::'].some(isLoopback)).toBe(false)
    const r = spawnSync(process.execPath, [resolve(__dirname, '../../bin/equiav.mjs'), 'serve', '--host', '0.0.0.0', '--workspace', workspace], { encoding: 'utf8' })
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/refusing to listen on 0\.0\.0\.0/)
  })
})

describe('Electron security settings', () => {
  it('isolates and sandboxes the renderer', () => {
    expect(WEB_PREFERENCES).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false })
    expect(isTrustedUrl('file:///opt/app/out/renderer/index.html')).toBe(true)
    expect(isTrustedUrl('http://localhost:5173/', 'http://localhost:5173')).toBe(true)
    expect(isTrustedUrl('https://example.com/renderer/index.html')).toBe(false)
  })
})
