/**
 * Kaldi fbank parity against torchaudio.compliance.kaldi.fbank (fixture made with torchaudio 0.13.1,
 * see tests/fixtures/fbank): from the stored waveform, and end to end from the .wav through ffmpeg.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { featuresFbankCommand } from '../../src/cli/commands/features'
import { readSafetensors } from '../../src/main/data/checkpoint-files'
import type { TensorDict } from '../../src/main/engine/checkpoint/tensors'
import {
  AUDIOSET_FBANK_NORM,
  EQUIAV_FBANK_OPTIONS,
  type KaldiFbankOptions,
  equiavFbank,
  normalizeFbank,
  padOrCut
} from '../../src/main/data/fbank'
import { decodeAudio } from '../../src/main/data/ffmpeg'
import { readNpy } from '../../src/main/data/npy'
import { fbankFixtureDir } from '../helpers/fixtures'

interface Fixture {
  params: {
    htk_compat: boolean
    sample_frequency: number
    use_energy: boolean
    window_type: string
    num_mel_bins: number
    dither: number
    frame_shift: number
  }
  target_length: number
  norm_mean: number
  norm_std: number
  clips: Record<string, { wav: string; samples: number; frames: number }>
}

const dir = fbankFixtureDir()
const fixture = JSON.parse(readFileSync(join(dir, 'fixture.json'), 'utf8')) as Fixture
const TOL = 1e-3

/** The fixture's kaldi.fbank keyword arguments as our options; the rest are Kaldi defaults. */
function optionsOf(p: Fixture['params']): KaldiFbankOptions {
  // with use_energy off, htk_compat only moves the (absent) energy column
  if (p.use_energy || p.dither !== 0 || p.window_type !== 'hanning') throw new Error(`fixture params not supported: ${JSON.stringify(p)}`)
  return { ...EQUIAV_FBANK_OPTIONS, sampleFrequency: p.sample_frequency, numMelBins: p.num_mel_bins, frameShift: p.frame_shift }
}

const options = optionsOf(fixture.params)

it('the fixture was made with the official recipe our constants encode', () => {
  expect(options).toEqual(EQUIAV_FBANK_OPTIONS)
  expect(AUDIOSET_FBANK_NORM).toEqual({ mean: fixture.norm_mean, std: fixture.norm_std })
})

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]))
  return worst
}

let tensors: TensorDict
const tmp = mkdtempSync(join(tmpdir(), 'equiav-fbank-parity-'))

beforeAll(async () => {
  tensors = await readSafetensors(join(dir, 'fbank.safetensors'))
})
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe.each(Object.entries(fixture.clips))('%s', (name, clip) => {
  const get = (key: string): Float32Array => {
    const t = tensors.get(`${name}.${key}`)
    if (!t) throw new Error(`fixture has no ${name}.${key}`)
    return t.data
  }

  it('raw and normalised fbank from the stored waveform match torchaudio within 1e-3', () => {
    const waveform = get('waveform')
    expect(waveform).toHaveLength(clip.samples)
    const fb = equiavFbank(waveform, options.sampleFrequency)
    expect(fb.length / options.numMelBins).toBe(clip.frames)
    expect(maxAbsDiff(fb, get('fbank'))).toBeLessThan(TOL)
    const normalised = normalizeFbank(padOrCut(fb, clip.frames, fixture.target_length), fixture.norm_mean, fixture.norm_std)
    expect(maxAbsDiff(normalised, get('normalised'))).toBeLessThan(TOL)
  })

  it('decodeAudio of the .wav gives the stored samples, and the same fbank', async () => {
    const decoded = await decodeAudio(join(dir, clip.wav), { sampleRate: options.sampleFrequency })
    expect(maxAbsDiff(decoded, get('waveform'))).toBeLessThanOrEqual(1 / 32768)
    expect(maxAbsDiff(equiavFbank(decoded, options.sampleFrequency), get('fbank'))).toBeLessThan(TOL)
  })
})

it('`equiav features fbank FILE --out X.npy` writes the raw fbank', async () => {
  const [name, clip] = Object.entries(fixture.clips)[0]
  const out = join(tmp, `${name}.npy`)
  const code = await featuresFbankCommand.run({ out }, [join(dir, clip.wav)])
  expect(code).toBe(0)
  const { shape, data } = await readNpy(out)
  expect(shape).toEqual([clip.frames, 128])
  const ref = tensors.get(`${name}.fbank`)?.data ?? new Float32Array(0)
  expect(maxAbsDiff(data, ref)).toBeLessThan(TOL)
})
