/**
 * A dataset's own input statistics, as CAV-MAE's get_norm_stats computes them for the fbank: the mean and
 * standard deviation of every value of the padded fbank over training clips. Frames get the same treatment
 * per RGB channel. The official code uses AudioSet's fbank statistics and ImageNet's frame statistics;
 * data far from those (a mostly black frame, mostly silent audio) needs its own, or the encoders see
 * nearly the same input for every clip.
 */
import { type InputNorm, OFFICIAL_INPUT_NORM } from '../engine/config'
import type { Catalog } from './catalog'
import { decodeAudio, extractFrames } from './ffmpeg'
import { equiavFbank, fbankFrameCount, padOrCut } from './fbank'
import { limiter } from '../util/limiter'

export const INPUT_NORM_META = 'input_norm'

import type { InputNormChoice } from '../../shared/requests'

export type { InputNormChoice }

/** Running sums in float64: a few hundred clips hold tens of millions of values. */
class Moments {
  n = 0
  sum = 0
  sumSq = 0
  /** values[first], values[first + stride], …, each times `scale` */
  add(values: ArrayLike<number>, first = 0, stride = 1, scale = 1): void {
    for (let i = first; i < values.length; i += stride) {
      const x = values[i] * scale
      this.sum += x
      this.sumSq += x * x
      this.n++
    }
  }
  mean(): number {
    return this.sum / this.n
  }
  std(): number {
    const m = this.mean()
    return Math.sqrt(Math.max(0, this.sumSq / this.n - m * m))
  }
}

/** Rounded like the published statistics (−4.346 / 4.332), which also keeps cache folder names short. */
const round = (x: number, digits: number): number => Number(x.toFixed(digits))

export interface InputNormSample {
  /** raw fbank of one clip, already padded or cut to the target length [targetLength, bins] */
  fbank: Float32Array
  /** frames as [H, W, 3] RGB bytes */
  frames: Uint8Array[]
}

/** Pure part: statistics of decoded samples. Throws when a statistic is degenerate (zero spread). */
export function inputNormOf(samples: Iterable<InputNormSample>, source: string): InputNorm {
  const fbank = new Moments()
  const channels = [new Moments(), new Moments(), new Moments()]
  for (const s of samples) {
    fbank.add(s.fbank)
    // [H, W, 3] bytes: channel c is every third value from c, scaled to [0, 1]
    for (const f of s.frames) channels.forEach((m, c) => m.add(f, c, 3, 1 / 255))
  }
  if (fbank.n === 0 || channels[0].n === 0) throw new Error(`${source}: no samples to compute statistics from`)
  const stds = [fbank.std(), ...channels.map((m) => m.std())]
  if (stds.some((s) => !(s > 1e-6))) throw new Error(`${source}: the inputs have no spread (std ${stds.map((s) => s.toExponential(2)).join(', ')}): every clip looks the same`)
  const rgb = (f: (m: Moments) => number): [number, number, number] => [0, 1, 2].map((c) => round(f(channels[c]), 4)) as [number, number, number]
  return {
    fbank: { mean: round(fbank.mean(), 3), std: round(fbank.std(), 3) },
    frame: { mean: rgb((m) => m.mean()), std: rgb((m) => m.std()) },
    source
  }
}

/** Decodes one clip the way `prepareClip` does, without normalising. */
export async function decodeNormSample(path: string, targetLength: number, signal?: AbortSignal): Promise<InputNormSample> {
  const wave = await decodeAudio(path, { signal })
  const raw = equiavFbank(wave)
  return { fbank: padOrCut(raw, fbankFrameCount(wave.length), targetLength), frames: await extractFrames(path, { count: 10, size: 224, signal }) }
}

/** `count` clips spread evenly over the list (deterministic, so the statistics are reproducible). */
export function evenSample<T>(items: T[], count: number): T[] {
  if (items.length <= count) return items
  return Array.from({ length: count }, (_, k) => items[Math.floor((k * items.length) / count)])
}

export function storedInputNorm(catalog: Catalog): InputNorm | null {
  const text = catalog.meta(INPUT_NORM_META)
  return text ? (JSON.parse(text) as InputNorm) : null
}

/**
 * The normalisation a run on this dataset uses: 'official' is AudioSet / ImageNet; 'dataset' the stored
 * statistics (an error if there are none); no choice means the dataset's when it has them.
 */
export function resolveInputNorm(catalog: Catalog, name: string, choice?: InputNormChoice): InputNorm {
  if (choice === 'official') return OFFICIAL_INPUT_NORM
  const stored = storedInputNorm(catalog)
  if (stored) return stored
  if (choice === 'dataset') throw new Error(`dataset "${name}" has no input statistics yet; run: equiav dataset norm-stats --name ${name}`)
  return OFFICIAL_INPUT_NORM
}

/**
 * Decodes up to `maxClips` usable training clips (two at a time: each decode is an ffmpeg process) and
 * stores their statistics in the catalog. Returns them.
 */
export async function computeDatasetInputNorm(
  catalog: Catalog,
  name: string,
  o: { targetLength: number; maxClips: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void }
): Promise<InputNorm> {
  const train = catalog.list({ status: 'ok', split: 'train', excluded: false })
  const clips = evenSample(train.length ? train : catalog.list({ status: 'ok', excluded: false }), o.maxClips)
  if (clips.length === 0) throw new Error(`dataset "${name}" has no usable clips to compute statistics from`)
  const samples: InputNormSample[] = []
  const run = limiter(2)
  await Promise.all(
    clips.map((clip) =>
      run(async () => {
        if (o.signal?.aborted) return
        samples.push(await decodeNormSample(clip.path, o.targetLength, o.signal))
        o.onProgress?.(samples.length, clips.length)
      })
    )
  )
  if (o.signal?.aborted) throw new Error('cancelled')
  const norm = inputNormOf(samples, `dataset ${name}: ${samples.length} ${train.length ? 'training ' : ''}clips, fbank padded to ${o.targetLength} frames`)
  catalog.setMeta(INPUT_NORM_META, JSON.stringify(norm))
  return norm
}
