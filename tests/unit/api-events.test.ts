import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { EventHub, publishJobEvents } from '../../src/main/api/events'
import { createApiServer } from '../../src/main/api/http'
import { eventChannelOf, forwardEvents } from '../../src/main/api/ipc'
import { createRouter } from '../../src/main/api/router'
import { workspaceServices } from '../../src/main/api/services'
import { attachEventSocket } from '../../src/main/api/ws'
import type { JobRecord } from '../../src/main/jobs/runner'
import { JobRunner } from '../../src/main/jobs/runner'
import { type Bridge, type SocketLike, httpClient, ipcClient } from '../../src/shared/client'
import type { EventName, MetricsRow } from '../../src/shared/contract'
import { METHODS } from '../../src/shared/methods'

const row = (step: number): MetricsRow => ({
  step,
  epoch: 0,
  loss: 1,
  loss_inter: 0.5,
  loss_intra_a: 0.25,
  loss_intra_v: 0.25,
  lr: 1e-4,
  grad_norm: 1,
  clips_per_s: 8,
  time: `t${step}`
})

const record = (state: JobRecord['state']): JobRecord => ({
  id: 'j1',
  request: {
    kind: 'pretrain',
    args: { workspace: '/w', run: 'r1', preset: 'tiny', objective: 'equiav', steps: 4, batchSize: 2, lr: 1e-4, seed: 0, checkpointEvery: 2, resume: false }
  },
  state,
  created: '2024-01-01T00:00:00Z',
  started: '2024-01-01T00:00:00Z',
  log: []
})

/** A fake runner: the events of JobRunner, one record. */
function fakeRunner(rec: JobRecord): EventEmitter & { get(id: string): JobRecord } {
  return Object.assign(new EventEmitter(), {
    get: (id: string): JobRecord => {
      if (id !== rec.id) throw new Error(`no job ${id}`)
      return rec
    }
  })
}

describe('events over IPC (in-memory fake of ipcMain/webContents and the preload)', () => {
  it('carries job state (once per change), progress, logs and metrics rows to the page as payloads', async () => {
    // webContents.send → the preload's ipcRenderer.on: a channel map standing in for Electron
    const channels = new EventEmitter()
    const hub = new EventHub()
    forwardEvents(hub, (channel, payload) => channels.emit(channel, { sender: 'ipc-event-object' }, payload))
    const bridge = {
      ...Object.fromEntries(METHODS.map((m) => [m, async () => ({})])),
      on: (event: EventName, cb: (p: unknown) => void) => {
        const l = (_e: unknown, payload: unknown): void => cb(payload)
        channels.on(eventChannelOf(event), l)
        return () => channels.off(eventChannelOf(event), l)
      }
    } as unknown as Bridge
    const client = ipcClient(bridge)
    const seen: [string, unknown][] = []
    const offs = (['job.state', 'job.progress', 'job.log', 'run.metrics'] as const).map((e) => client.on(e, (p) => seen.push([e, p])))
    const connected = await new Promise((ok) => client.on('api.connected', ok))
    expect(connected).toEqual({})

    const rec = record('running')
    const runner = fakeRunner(rec)
    publishJobEvents(runner, hub)
    runner.emit('update', rec)
    rec.progress = { done: 1, total: 4, unit: 'step' }
    rec.progressBase = { done: 0, at: Date.now() - 1000 } // as the runner marks the first progress of a job
    runner.emit('progress', rec)
    runner.emit('update', rec) // same state: no second job.state
    runner.emit('metrics', 'j1', row(1))
    runner.emit('metrics', 'j1', { step: 'not a row' }) // dropped, not forwarded malformed
    runner.emit('log', 'j1', 'a\n\nb\n')
    rec.state = 'cancelled'
    runner.emit('update', rec)

    expect(seen.map(([e]) => e)).toEqual(['job.state', 'job.progress', 'run.metrics', 'job.log', 'job.state'])
    expect(seen[0][1]).toMatchObject({ id: 'j1', kind: 'pretrain', run: 'r1', state: 'running' })
    expect(seen[1][1]).toMatchObject({ id: 'j1', progress: { done: 1, total: 4 } })
    expect((seen[1][1] as { eta: number }).eta).toBeGreaterThan(0)
    expect(seen[2][1]).toEqual({ run: 'r1', rows: [row(1)] })
    expect(seen[3][1]).toEqual({ id: 'j1', lines: ['a', 'b'] })
    expect(seen[4][1]).toMatchObject({ state: 'cancelled' })

    offs.forEach((off) => off())
    runner.emit('log', 'j1', 'after')
    expect(seen).toHaveLength(5)
  })

  it('refuses to publish a payload the contract rejects', () => {
    const hub = new EventHub()
    expect(() => hub.publish('job.log', { id: 'j', lines: 'one' } as never)).toThrow(/event job.log: lines:/)
  })
})

describe('events over the serve WebSocket', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'equiav-ws-'))
  const token = 'b'.repeat(48)
  const hub = new EventHub()
  const server = createApiServer({ router: createRouter(workspaceServices(workspace, '1', new JobRunner(workspace))), token, staticDir: workspace })
  attachEventSocket(server, hub, token)
  let base: string
  beforeAll(async () => {
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
    base = `127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((ok) => server.close(() => ok()))
    rmSync(workspace, { recursive: true, force: true })
  })

  /** The handshake's HTTP status, or 101 when it was accepted. */
  const handshake = (url: string, headers: Record<string, string> = {}): Promise<number> =>
    new Promise((ok) => {
      const ws = new WebSocket(url, { headers })
      ws.on('open', () => {
        ws.close()
        ok(101)
      })
      ws.on('unexpected-response', (_req, res) => ok(res.statusCode ?? 0))
      ws.on('error', () => undefined)
    })

  it('refuses a handshake without the token, with a wrong one, or from another origin', async () => {
    expect(await handshake(`ws://${base}/events`)).toBe(401)
    expect(await handshake(`ws://${base}/events?token=wrong`)).toBe(401)
    expect(await handshake(`ws://${base}/other?token=${token}`)).toBe(404)
    expect(await handshake(`ws://${base}/events`, { authorization: `Bearer ${token}`, origin: 'http://evil.example' })).toBe(403)
    const port = base.split(':')[1]
    expect(await handshake(`ws://${base}/events`, { cookie: `equiav_token_${port}=${token}`, origin: `http://${base}` })).toBe(101)
    // the cookie of another port's server, and a Host that is not this server (DNS rebinding), are refused
    expect(await handshake(`ws://${base}/events`, { cookie: `equiav_token_1=${token}`, origin: `http://${base}` })).toBe(401)
    expect(await handshake(`ws://${base}/events`, { authorization: `Bearer ${token}`, host: `evil.example:${port}` })).toBe(421)
  })

  it('delivers events to the client with the token, and calls still work through the same client', async () => {
    const client = httpClient({
      base: `http://${base}`,
      eventsUrl: `ws://${base}/events`,
      fetch,
      headers: { authorization: `Bearer ${token}` },
      socket: (url) => new WebSocket(url, { headers: { authorization: `Bearer ${token}` } }) as unknown as SocketLike
    })
    try {
      const got = new Promise((ok) => client.on('run.metrics', ok))
      await new Promise((ok) => client.on('api.connected', ok))
      hub.publish('run.metrics', { run: 'r1', rows: [row(7)] })
      expect(await got).toEqual({ run: 'r1', rows: [row(7)] })
      expect(await client.call('app.info', {})).toEqual({ version: '1', workspace })
    } finally {
      client.close()
    }
  })
})
