import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const bin = resolve(__dirname, '../../bin/equiav.mjs')
const workspace = mkdtempSync(join(tmpdir(), 'equiav-cli-ft-'))
afterAll(() => rmSync(workspace, { recursive: true, force: true }))

function equiav(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args, '--workspace', workspace], { encoding: 'utf8', env: { ...process.env, EQUIAV_BACKEND: 'wasm' } })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

const jsonl = (path: string): Array<Record<string, unknown>> => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l))

describe('equiav finetune + eval classify (CLI)', () => {
  it('fine-tunes from a pretraining run with lineage, evaluates each epoch, and classify --json reports the metrics', () => {
    const pre = equiav('pretrain', '--synthetic', '--preset', 'tiny', '--batch-size', '2', '--clips', '4', '--steps', '1', '--run', 'p1')
    expect(pre.code, pre.err).toBe(0)

    const ft = equiav('finetune', '--synthetic', '--clips', '4', '--from', 'p1', '--modality', 'audio-visual', '--loss', 'ce', '--mixup', '0.5', '--batch', '2', '--epochs', '2', '--run', 'f1')
    expect(ft.code, ft.err).toBe(0)
    expect(ft.err).toMatch(/loaded \d+ encoder tensors from p1/)
    expect(ft.err).toMatch(/finetune .*4\/4 step/)
    const run = join(workspace, 'runs', 'f1')
    const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'))
    expect(config).toMatchObject({ kind: 'finetune', lineage: { from: 'p1', kind: 'run', step: 1 }, modality: 'audio-visual', loss: 'ce', mixup: 0.5, totalSteps: 4 })
    const rows = jsonl(join(run, 'metrics.jsonl'))
    expect(rows.map((r) => r.step)).toEqual([1, 2, 3, 4])
    // one evaluation per epoch (2 steps each), on the held-out split
    expect(rows.map((r) => r.eval_split ?? null)).toEqual([null, 'test', null, 'test'])
    for (const r of rows) expect(Number.isFinite(r.loss)).toBe(true)

    const cls = equiav('eval', 'classify', '--run', 'f1', '--split', 'test', '--json')
    expect(cls.code, cls.err).toBe(0)
    const result = JSON.parse(cls.out)
    expect(result.n).toBe(8)
    expect(result.top1).toBeGreaterThanOrEqual(0)
    expect(result.top5).toBeGreaterThanOrEqual(result.top1)
    expect(result.top1).toBe(rows[3].eval_top1) // the same classifier and clips as the last epoch's evaluation
    const perClassClips = Object.values(result.per_class as Record<string, { n: number }>).reduce((a, c) => a + c.n, 0)
    expect(perClassClips).toBe(8)
  })

  it('linear probe with BCE reports mAP; bad options are refused with a clear message', () => {
    const ft = equiav('finetune', '--synthetic', '--clips', '4', '--from', 'p1', '--modality', 'visual', '--linear-probe', '--batch', '2', '--steps', '1', '--run', 'f2')
    expect(ft.code, ft.err).toBe(0)
    expect(ft.err).toMatch(/frozen: linear probe/)
    const result = JSON.parse(equiav('eval', 'classify', '--run', 'f2', '--json').out)
    expect(result.mAP).toBeGreaterThan(0)
    expect(result.mAP).toBeLessThanOrEqual(1)
    expect(result.top1).toBeUndefined()

    expect(equiav('finetune', '--synthetic', '--from', 'p1', '--modality', 'smell').err).toMatch(/--modality must be one of audio, visual, audio-visual/)
    expect(equiav('finetune', '--synthetic', '--run', 'f3').err).toMatch(/give --from RUN/)
    expect(equiav('finetune', '--synthetic', '--from', 'nope', '--run', 'f3').err).toMatch(/no run "nope"/)
    expect(equiav('eval', 'classify', '--run', 'p1').err).toMatch(/not a fine-tuning run/)
  })

  it('eval equivariance --json: a row per augmentation type and strength for both modalities', () => {
    const r = equiav('eval', 'equivariance', '--run', 'p1', '--synthetic', '--json')
    expect(r.code, r.err).toBe(0)
    const { rows } = JSON.parse(r.out) as { rows: Array<{ modality: string; augmentation: string; predicted: number; invariant: number; n: number }> }
    expect(rows.filter((x) => x.modality === 'a').map((x) => x.augmentation)).toContain('specaug')
    expect(rows.filter((x) => x.modality === 'v').map((x) => x.augmentation)).toContain('grayscale')
    for (const x of rows) expect(Math.abs(x.predicted)).toBeLessThanOrEqual(1 + 1e-6)
    expect(readFileSync(join(workspace, 'runs', 'p1', 'equivariance-synthetic-test.md'), 'utf8')).toMatch(/\| visual \| grayscale \| 1 \|/)
  })
})
