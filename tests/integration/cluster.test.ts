/**
 * The cluster round trip on CPU: `equiav cluster export` of a small demo dataset, its launch-torchrun.sh with two
 * gloo processes for 20 steps, `equiav cluster attach`, then `eval retrieval` and `pretrain --resume` on the desktop
 * continue the cluster run; and a desktop run continued by the trainer keeps its step count and metrics.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { pythonSuiteMode, torchPython } from '../helpers/python'

const bin = resolve(__dirname, '../../bin/equiav.mjs')
const python = torchPython()
const mode = pythonSuiteMode(python, 'the cluster round trip')
const root = mkdtempSync(join(tmpdir(), 'equiav-cluster-'))
const workspace = join(root, 'workspace')
afterAll(() => rmSync(root, { recursive: true, force: true }))

function run(cmd: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, EQUIAV_BACKEND: 'wasm', EQUIAV_WORKSPACE: workspace, ...env } })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stderr.slice(-3000)}`)
  return r.stdout + r.stderr
}
const equiav = (...args: string[]): string => run(process.execPath, [bin, ...args])
const launch = (dir: string, ...args: string[]): string => run(join(dir, 'launch-torchrun.sh'), args, { PYTHON: python as string })

function metricsSteps(runDir: string): number[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step)
}
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const checkpointSteps = (runDir: string): number[] =>
  readdirSync(join(runDir, 'checkpoints')).map((d) => Number(/^step-(\d+)$/.exec(d)?.[1])).filter(Number.isFinite).sort((a, b) => a - b)

describe.skipIf(mode === 'skip')('training on a cluster (CPU, two gloo processes)', () => {
  it('export → torchrun for 20 steps → attach → desktop retrieval and resume; a desktop run resumed by the trainer', { timeout: 1_200_000 }, () => {
    equiav('dataset', 'create-demo', '--name', 'demo', '--clips', '36')
    equiav('dataset', 'norm-stats', '--name', 'demo', '--clips', '24')
    equiav('dataset', 'prepare', '--name', 'demo', '--preset', 'tiny')

    // export and train on the "cluster"
    const out = join(root, 'cluster-c1')
    equiav('cluster', 'export', '--dataset', 'demo', '--run', 'c1', '--steps', '20', '--batch-size', '4', '--checkpoint-every', '10', '--no-time-roll', '--out', out)
    for (const f of ['launch-torchrun.sh', 'launch.sbatch', 'requirements.txt', 'README.md', 'run/config.json', 'data/train.json', 'trainer/equiav_trainer/train.py']) {
      expect(existsSync(join(out, f)), f).toBe(true)
    }
    const log = launch(out, '--nproc-per-node', '2', '--workers', '1')
    expect(log).toMatch(/2 process\(es\), cpu; steps 0 → 20/)
    const clusterRun = join(out, 'run')
    expect(metricsSteps(clusterRun)).toEqual(range(1, 20))
    expect(checkpointSteps(clusterRun)).toEqual([10, 20])
    expect(JSON.parse(readFileSync(join(clusterRun, 'config.json'), 'utf8')).backend.name).toBe('pytorch-cpu')

    // attach it, evaluate and continue it on the desktop
    equiav('cluster', 'attach', out, '--name', 'c1')
    expect(realpathSync(join(workspace, 'runs', 'c1'))).toBe(realpathSync(clusterRun))
    expect(equiav('eval', 'retrieval', '--run', 'c1', '--dataset', 'demo', '--split', 'test')).toMatch(/A→V\s+R@1/)
    const resumed = equiav('pretrain', '--dataset', 'demo', '--run', 'c1', '--resume', '--steps', '22', '--batch-size', '4')
    expect(resumed).toMatch(/from its checkpoint at step 20/)
    expect(metricsSteps(clusterRun)).toEqual(range(1, 22))

    // a desktop run continued by the trainer
    equiav('pretrain', '--dataset', 'demo', '--run', 'd1', '--steps', '4', '--batch-size', '4', '--checkpoint-every', '4', '--no-time-roll')
    const out2 = join(root, 'cluster-d1')
    equiav('cluster', 'export', '--dataset', 'demo', '--run', 'd1', '--resume', '--steps', '8', '--data', join(out, 'data'), '--out', out2)
    expect(launch(out2, '--nproc-per-node', '2', '--workers', '1')).toMatch(/resuming .* from its checkpoint at step 4/)
    const d1 = join(out2, 'run')
    expect(metricsSteps(d1)).toEqual(range(1, 8))
    expect(checkpointSteps(d1)).toEqual([4, 8])
    const state = JSON.parse(readFileSync(join(d1, 'checkpoints', 'step-8', 'state.json'), 'utf8')) as { step: number; state: { rng: unknown } }
    expect(state.step).toBe(8)
    expect(state.state.rng).toEqual({ seed: 0, step: 8 })
  })
})
