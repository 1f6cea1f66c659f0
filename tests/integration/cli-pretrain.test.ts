import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const bin = resolve(__dirname, '../../bin/equiav.mjs')
const workspace = mkdtempSync(join(tmpdir(), 'equiav-cli-'))
afterAll(() => rmSync(workspace, { recursive: true, force: true }))

function equiav(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, EQUIAV_BACKEND: 'wasm' } })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

const small = ['pretrain', '--synthetic', '--preset', 'tiny', '--batch-size', '2', '--clips', '4', '--workspace', workspace, '--run', 'r1']

describe('equiav pretrain (CLI)', () => {
  it('trains, reports the backend and progress, writes the run folder, refuses to overwrite, resumes', () => {
    const first = equiav(...small, '--steps', '2')
    expect(first.code, first.err).toBe(0)
    expect(first.err).toMatch(/backend: wasm/)
    expect(first.err).toMatch(/pretrain .*2\/2 step/)
    const run = join(workspace, 'runs', 'r1')
    const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'))
    expect(config).toMatchObject({ totalSteps: 2, batchSize: 2, seed: 0, backend: { name: 'wasm' }, objective: 'equiav' })
    const rows = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(rows.map((r) => r.step)).toEqual([1, 2])
    for (const k of ['step', 'epoch', 'loss', 'loss_inter', 'loss_intra_a', 'loss_intra_v', 'lr', 'grad_norm', 'clips_per_s', 'time']) {
      expect(rows[1]).toHaveProperty(k)
    }

    const again = equiav(...small, '--steps', '2')
    expect(again.code).toBe(1)
    expect(again.err).toMatch(/already exists: pass --resume/)

    const resumed = equiav(...small, '--steps', '3', '--resume')
    expect(resumed.code, resumed.err).toBe(0)
    expect(resumed.err).toMatch(/from its checkpoint at step 2/)
    expect(readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3)
  })

  it('rejects bad options with a clear message', () => {
    const bad = equiav('pretrain', '--synthetic', '--preset', 'huge', '--workspace', workspace)
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/--preset must be one of tiny, small, base/)
    const neither = equiav('pretrain', '--workspace', workspace)
    expect(neither.err).toMatch(/exactly one of --synthetic or --dataset/)
    const size = equiav('pretrain', '--synthetic', '--img-size', '100', '--workspace', workspace)
    expect(size.code).toBe(2)
    expect(size.err).toMatch(/--img-size must be a multiple of 16/)
    const init = equiav('pretrain', '--synthetic', '--init-from', 'r1', '--init-modalities', 'video', '--workspace', workspace)
    expect(init.err).toMatch(/--init-modalities takes audio, visual or audio,visual \(got video\)/)
  })
})
