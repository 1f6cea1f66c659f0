/** config.json through its schema: older runs migrated, a broken file named with its reason. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { OFFICIAL_INPUT_NORM } from '../../src/main/engine/config'
import { readFinetuneConfig, readPretrainConfig } from '../../src/main/runs/config'
import { pretrainConfigFixture } from '../helpers/runs'

const root = mkdtempSync(join(tmpdir(), 'equiav-run-config-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

function run(name: string, config: unknown): string {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config))
  return dir
}

describe('config.json', () => {
  it('of a run older than inputNorm and timeRoll reads as the official statistics and a rolled audio', async () => {
    const { inputNorm: _norm, ...model } = pretrainConfigFixture().model
    const { timeRoll: _roll, ...old } = pretrainConfigFixture({ model: model as never })
    const config = await readPretrainConfig(run('old', { ...old, somethingNewer: 1 }))
    expect(config.model.inputNorm).toEqual(OFFICIAL_INPUT_NORM)
    expect(config.timeRoll).toBe(true)
    expect(config).toMatchObject({ somethingNewer: 1 }) // keys of a newer version are kept
  })

  it('that is broken or of the other kind is named with the reason', async () => {
    const { model: _model, ...noModel } = pretrainConfigFixture()
    await expect(readPretrainConfig(run('nomodel', noModel))).rejects.toThrow(/nomodel[\\/]config\.json: not a run config this version reads \(model: /)
    writeFileSync(join(run('json', {}), 'config.json'), '{"run": ')
    await expect(readPretrainConfig(join(root, 'json'))).rejects.toThrow(/json[\\/]config\.json: not valid JSON/)
    await expect(readFinetuneConfig(run('pre', pretrainConfigFixture()))).rejects.toThrow(/pre[\\/]config\.json: not a fine-tuning run/)
    await expect(readPretrainConfig(join(root, 'absent'))).rejects.toThrow(/absent: not a run folder \(no config\.json\)/)
  })
})
