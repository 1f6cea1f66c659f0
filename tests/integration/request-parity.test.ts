/**
 * One request path: a pretraining job started through the workbench's API and `equiav pretrain` with the
 * same flags run the same workflow, so they write the same config.json (its run name and creation time
 * aside) and keep the same checkpoints.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { workspaceServices } from '../../src/main/api/services'
import { JobRunner } from '../../src/main/jobs/runner'
import { contract } from '../../src/shared/contract'

const bin = resolve(__dirname, '../../bin/equiav.mjs')
const workspace = mkdtempSync(join(tmpdir(), 'equiav-parity-'))
afterAll(() => rmSync(workspace, { recursive: true, force: true }))
process.env.EQUIAV_BACKEND = 'wasm' // the engine processes the runner forks inherit it

function equiav(...args: string[]): { code: number | null; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args, '--workspace', workspace], { encoding: 'utf8' })
  return { code: r.status, err: r.stderr }
}

function config(run: string): Record<string, unknown> {
  const { run: _run, created: _created, ...rest } = JSON.parse(readFileSync(join(workspace, 'runs', run, 'config.json'), 'utf8')) as Record<string, unknown>
  return rest
}

const checkpoints = (run: string): string[] => readdirSync(join(workspace, 'runs', run, 'checkpoints')).sort()

describe('a pretraining request from the app and from the CLI', () => {
  it('writes the same config.json with initFrom, imgSize, keepCheckpoints and a warm-up set', async () => {
    const base = equiav('pretrain', '--synthetic', '--clips', '4', '--batch-size', '2', '--img-size', '32', '--steps', '0', '--run', 'base')
    expect(base.code, base.err).toBe(0)

    const runner = new JobRunner(workspace)
    const start = workspaceServices(workspace, 'test', runner)['jobs.start']
    const args = { run: 'app', syntheticClips: 4, batchSize: 2, steps: 3, imgSize: 32, keepCheckpoints: 1, checkpointEvery: 1, warmupSteps: 2, initFrom: 'base', initModalities: ['visual'], timeRoll: false }
    const job = await start(contract['jobs.start'].input.parse({ kind: 'pretrain', args }))
    await runner.idle()
    expect(runner.get(job.id).state, runner.get(job.id).error ?? '').toBe('done')

    const cli = equiav(
      'pretrain', '--synthetic', '--clips', '4', '--batch-size', '2', '--steps', '3', '--img-size', '32', '--keep-checkpoints', '1',
      '--checkpoint-every', '1', '--warmup-steps', '2', '--init-from', 'base', '--init-modalities', 'visual', '--no-time-roll', '--run', 'cli'
    )
    expect(cli.code, cli.err).toBe(0)

    const app = config('app')
    expect(app).toMatchObject({ warmupSteps: 2, totalSteps: 3, timeRoll: false, model: { imgSize: 32 }, init: { from: 'base', layout: 'ours', modalities: ['v'] } })
    expect(config('cli')).toEqual(app)
    expect(checkpoints('app')).toEqual(['step-3'])
    expect(checkpoints('cli')).toEqual(['step-3'])
  })
})
