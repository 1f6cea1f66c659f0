import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { sbatchScript, torchrunScript } from '../../src/main/cluster/scripts'
import { attachRun, attachedLocation, findRunFolder } from '../../src/main/cluster/attach'
import { runsServices } from '../../src/main/api/services/runs'
import { pretrainConfigFixture } from '../helpers/runs'
import type { JobRunner } from '../../src/main/jobs/runner'
import { DatasetCatalogs } from '../../src/main/data/datasets'
import { ClipPlayback } from '../../src/main/api/playback'

const root = mkdtempSync(join(tmpdir(), 'equiav-cluster-unit-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** the values the script's RUN_DIR / DATA lines give, run by bash with HERE set */
function defaults(script: string, env: Record<string, string> = {}): string {
  const lines = script.split('\n').filter((l) => /^(PYTHON|RUN_DIR|DATA)=/.test(l))
  const r = spawnSync('bash', ['-c', `HERE=/here; ${lines.join('; ')}; printf '%s|%s' "$RUN_DIR" "$DATA"`], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } })
  return r.stdout
}

describe('cluster launch scripts', () => {
  it('are valid bash', () => {
    for (const script of [torchrunScript({ run: 'r' }), sbatchScript({ run: 'r' })]) {
      expect(spawnSync('bash', ['-n'], { input: script }).status).toBe(0)
    }
  })

  it('default to run/ and data/ beside themselves, take paths literally, and yield to the environment', () => {
    expect(defaults(torchrunScript({ run: 'r' }))).toBe('/here/run|/here/data')
    const odd = torchrunScript({ run: 'r', runDir: '/scratch/my runs/$USER "x"', data: '/data/`a`\\b' })
    expect(defaults(odd)).toBe('/scratch/my runs/$USER "x"|/data/`a`\\b')
    expect(defaults(odd, { RUN_DIR: '/elsewhere' })).toBe('/elsewhere|/data/`a`\\b')
  })

  it('run torchrun with a c10d rendezvous over Slurm nodes', () => {
    const s = sbatchScript({ run: 'r' })
    expect(s).toMatch(/--rdzv_backend c10d --rdzv_endpoint "\$HEAD:29500"/)
    expect(s).toMatch(/#SBATCH --job-name=equiav-r/)
  })
})

describe('cluster attach', () => {
  const workspace = join(root, 'ws')
  const shared = join(root, 'shared', 'export')
  mkdirSync(join(shared, 'run'), { recursive: true })
  const config = pretrainConfigFixture({ totalSteps: 20, created: 'now', data: { kind: 'dataset', name: 'd', describe: 'd', size: 4 }, backend: { name: 'pytorch-cpu', tfBackend: 'pytorch', reason: 'the PyTorch trainer' } })
  writeFileSync(join(shared, 'run', 'config.json'), JSON.stringify(config))
  writeFileSync(join(shared, 'run', 'metrics.jsonl'), '{"step":1,"epoch":0,"loss":2,"lr":0.1,"clips_per_s":1,"time":"t"}\n')

  it('finds the run folder inside an export folder, and names what is missing', () => {
    expect(findRunFolder(shared)).toBe(join(shared, 'run'))
    expect(() => findRunFolder(root)).toThrow(/no run folder here \(neither .*config\.json nor .*run\/config\.json exists\)/)
  })

  it('links the folder under runs/, lists it with where it trains, and refuses a taken name', async () => {
    await attachRun(workspace, shared, 'c1')
    expect(attachedLocation(workspace, 'c1')).toBe(join(shared, 'run'))
    const services = runsServices({ workspace, version: 'test', jobs: {} as JobRunner, catalogs: new DatasetCatalogs(workspace), playback: new ClipPlayback(workspace) })
    const runs = await services['runs.list']({})
    expect(runs).toHaveLength(1)
    expect(runs[0]).toMatchObject({ name: 'c1', location: join(shared, 'run'), backend: 'pytorch-cpu', last: { step: 1 } })
    await expect(attachRun(workspace, shared, 'c1')).rejects.toThrow(/run "c1" already exists/)
    await expect(attachRun(workspace, shared, '../x')).rejects.toThrow(/run name "..\/x" must be/)
  })
})

describe('cluster.export input', () => {
  it('needs a dataset and absolute folders, named field by field', async () => {
    const { ClusterExportArgsSchema, describeIssues } = await import('../../src/shared/contract')
    const ok = ClusterExportArgsSchema.safeParse({ run: 'r1', steps: 20, dataset: 'demo', out: '/shared/r1' })
    expect(ok.success).toBe(true)
    const bad = ClusterExportArgsSchema.safeParse({ run: 'r1', steps: 20, out: 'relative/dir', runDir: 'x' })
    expect(bad.success).toBe(false)
    if (!bad.success) expect(describeIssues(bad.error)).toMatch(/dataset: .*; out: an absolute folder path; runDir: an absolute folder path/)
  })
})
