/**
 * A job whose runner (the server) died: the next runner on the workspace continues it from its checkpoint
 * once the engine process it ran in has exited, and never touches the jobs of a runner still alive.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { EngineLauncher } from '../../src/main/jobs/launcher'
import type { ParentMessage } from '../../src/main/jobs/protocol'
import { type JobRecord, JobRunner } from '../../src/main/jobs/runner'

const root = mkdtempSync(join(tmpdir(), 'equiav-orphans-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** An engine that records what it was asked and when, then finishes at once. */
function recordingEngine(launched: { request: ParentMessage; at: number }[]): EngineLauncher {
  return () => {
    let exit: (code: number | null, signal: string | null) => void = () => undefined
    return {
      send: (m) => {
        launched.push({ request: m, at: Date.now() })
        setImmediate(() => exit(0, null))
      },
      onMessage: () => undefined,
      onStderr: () => undefined,
      onExit: (cb) => void (exit = cb),
      running: () => false,
      kill: () => undefined,
      pid: 4242,
      detach: () => undefined
    }
  }
}

const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim())

function writeRecord(workspace: string, rec: Partial<JobRecord> & { id: string }): void {
  mkdirSync(join(workspace, 'jobs'), { recursive: true })
  const full: JobRecord = {
    state: 'running',
    created: '2026-01-01T00:00:00.000Z',
    log: [],
    request: { kind: 'pretrain', args: { workspace, run: 'r', preset: 'tiny', objective: 'equiav', steps: 10, batchSize: 2, lr: 1e-4, seed: 0, checkpointEvery: 5, resume: false } },
    ...rec
  }
  writeFileSync(join(workspace, 'jobs', `${rec.id}.json`), JSON.stringify(full))
}

describe('jobs of a runner that died', () => {
  it('are continued from their checkpoint once the old engine process has exited', async () => {
    const workspace = join(root, 'a')
    const oldEngine = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 800)'])
    const exited = new Promise<number>((ok) => oldEngine.on('exit', () => ok(Date.now())))
    writeRecord(workspace, { id: 'j1', owner: deadPid(), engine: oldEngine.pid })
    writeRecord(workspace, { id: 'j2', state: 'queued', owner: deadPid(), created: '2026-01-01T00:00:01.000Z' })
    const launched: { request: ParentMessage; at: number }[] = []
    const runner = new JobRunner(workspace, 10, recordingEngine(launched))
    expect(runner.get('j1').state).toBe('queued')
    await runner.idle()
    const exitedAt = await exited
    expect(launched.map((l) => l.request)).toMatchObject([{ kind: 'pretrain', args: { run: 'r', resume: true } }, { kind: 'pretrain', args: { resume: false } }])
    expect(launched[0].at).toBeGreaterThanOrEqual(exitedAt) // never beside the old engine, still writing its checkpoint
    expect(runner.get('j1')).toMatchObject({ state: 'done', owner: process.pid, engine: 4242 })
    expect(runner.get('j1').log.join('\n')).toMatch(/the workbench stopped while this job ran \(process \d+\); continuing it from its last checkpoint/)
    expect(runner.get('j2').state).toBe('done')
    expect(JSON.parse(readFileSync(join(workspace, 'jobs', 'j1.json'), 'utf8'))).toMatchObject({ state: 'done' })
  })

  it('leaves alone the jobs of a runner that is still alive', async () => {
    const workspace = join(root, 'b')
    writeRecord(workspace, { id: 'mine', owner: process.pid, engine: process.pid })
    const launched: { request: ParentMessage; at: number }[] = []
    const runner = new JobRunner(workspace, 10, recordingEngine(launched))
    await new Promise((ok) => setTimeout(ok, 300))
    expect(launched).toEqual([])
    expect(runner.get('mine').state).toBe('running')
  })
})
