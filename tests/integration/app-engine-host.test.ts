/**
 * The Electron app runs jobs in utility processes on the bundled engine host (out/main/engine-host.js).
 * No Electron binary runs here, so the utility process is stood in for by a plain Node child of the same
 * bundle: this checks that the bundle is a working engine host without tsx, and the launcher's plumbing
 * (messages, stderr, exit) through the job runner.
 */
import { execFileSync, fork } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { JobRunner } from '../../src/main/jobs/runner'
import { type UtilityFork, type UtilityProcessLike, utilityLauncher } from '../../src/main/jobs/utility-launcher'
import type { HostMessage } from '../../src/main/jobs/protocol'
import { Catalog } from '../../src/main/data/catalog'
import { importFolder } from '../../src/main/data/importers/folder'
import { createMediaDir } from '../helpers/media'

const root = resolve(__dirname, '../..')
// inside node_modules so the bundle resolves its dependencies as it would in the project
const outDir = join(root, 'node_modules', '.cache', `equiav-app-build-${process.pid}`)
const workspace = mkdtempSync(join(tmpdir(), 'equiav-app-host-'))

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build', '--outDir', outDir], { cwd: root, stdio: 'ignore' })
}, 120_000)
afterAll(() => {
  rmSync(outDir, { recursive: true, force: true })
  rmSync(workspace, { recursive: true, force: true })
})

/** utilityProcess.fork's shape over child_process.fork (no tsx: the bundle must run as it is). */
const forkLikeUtility: UtilityFork = (modulePath, args) => {
  const child = fork(modulePath, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  const proc: UtilityProcessLike = {
    postMessage: (m) => void child.send(m),
    on(event: 'message' | 'exit', cb: ((m: HostMessage) => void) | ((code: number) => void)) {
      if (event === 'message') child.on('message', cb as (m: HostMessage) => void)
      else child.on('exit', (code) => (cb as (code: number) => void)(code ?? 1))
      return proc
    },
    stderr: child.stderr,
    pid: child.pid,
    kill: () => child.kill('SIGKILL')
  }
  return proc
}

describe('the app’s engine process', () => {
  it('is bundled, and runs a pretraining job on two bundled engine workers through the utility-process launcher', async () => {
    expect(existsSync(join(outDir, 'main', 'engine-host.js'))).toBe(true)
    const runner = new JobRunner(workspace, 10_000, utilityLauncher(forkLikeUtility, join(outDir, 'main')))
    const rows: unknown[] = []
    runner.on('metrics', (_id, row) => rows.push(row))
    const job = runner.start({
      kind: 'pretrain',
      args: { workspace, run: 'app', preset: 'tiny', objective: 'equiav', steps: 2, batchSize: 2, lr: 5e-4, seed: 0, checkpointEvery: 2, workers: 2, resume: false, syntheticClips: 4 }
    })
    await runner.idle()
    expect(runner.get(job.id)).toMatchObject({ state: 'done', progress: { done: 2, total: 2 } })
    expect(rows).toHaveLength(2)
    expect(existsSync(join(workspace, 'runs', 'app', 'checkpoints', 'step-2'))).toBe(true)
    expect(JSON.parse(readFileSync(join(workspace, 'runs', 'app', 'config.json'), 'utf8')).workers).toBe(2)
  })

  it('prepares a dataset with the bundled prepare workers (no TypeScript at run time)', async () => {
    const media = createMediaDir('equiav-app-prepare-')
    try {
      await media.make({ name: 'a.mp4', duration: 1 })
      const catalog = Catalog.open(join(workspace, 'datasets', 'clips'))
      await importFolder({ root: media.dir, catalog })
      catalog.close()
      const runner = new JobRunner(workspace, 10_000, utilityLauncher(forkLikeUtility, join(outDir, 'main')))
      const job = runner.start({ kind: 'prepare', args: { workspace, dataset: 'clips', preset: 'tiny', statsClips: 1 } })
      await runner.idle()
      const rec = runner.get(job.id)
      expect(rec.state, rec.error ?? rec.log.join('\n')).toBe('done')
      const result = rec.result as { prepared: number; cache: string }
      expect(result.prepared).toBe(1)
      expect(existsSync(join(result.cache, 'index.json'))).toBe(true)
    } finally {
      media.cleanup()
    }
  })

  it('reports a job that fails in it with its last log line', async () => {
    const runner = new JobRunner(workspace, 10_000, utilityLauncher(forkLikeUtility, join(outDir, 'main')))
    const job = runner.start({
      kind: 'pretrain',
      args: { workspace, run: 'broken', preset: 'tiny', objective: 'equiav', steps: 1, batchSize: 2, lr: 5e-4, seed: 0, checkpointEvery: 1, resume: false, dataset: 'no-such-dataset' }
    })
    await runner.idle()
    const rec = runner.get(job.id)
    expect(rec.state).toBe('failed')
    expect(rec.error).toMatch(/no dataset "no-such-dataset"/)
  })
})
