import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { warmupCosineLr } from '../../src/main/engine/schedule'
import { normalizeFrame } from '../../src/main/engine/augment'
import { OFFICIAL_INPUT_NORM } from '../../src/main/engine/config'
import { officialFromParams } from '../../src/main/engine/checkpoint/official'
import { classifierBatch, clipTargets } from '../../src/main/engine/finetune/batch'
import { classificationMetrics } from '../../src/main/engine/finetune/evaluate'
import { FINETUNE_DEFAULTS, finetuneStep, runFinetune } from '../../src/main/engine/finetune/loop'
import { mixRows, planMixup, sampleBeta } from '../../src/main/engine/finetune/mixup'
import {
  type ClassifierSpec,
  FINETUNE_MODALITIES,
  classifierLogits,
  createClassifierParams,
  loadEncoderWeights
} from '../../src/main/engine/finetune/model'
import { bceWithLogits, softTargetCrossEntropy } from '../../src/main/engine/finetune/objective'
import { createParams, type Params } from '../../src/main/engine/model'
import { AdamW } from '../../src/main/engine/optim'
import { Rng } from '../../src/main/engine/rng'
import { toTensorDict } from '../../src/main/engine/train/run'
import { syntheticClip } from '../../src/main/engine/train/synthetic'
import { syntheticHeldOut, syntheticSource } from '../../src/main/engine/train/synthetic-source'
import { rollAndTile } from '../../src/main/engine/train/views'
import { MICRO_MODEL } from '../helpers/micro'
import { useTestBackend } from '../helpers/tf'

beforeAll(useTestBackend)

const C = 4
const spec = (modality: ClassifierSpec['modality']): ClassifierSpec => ({ model: MICRO_MODEL, modality, classes: C })
const values = (p: Params, name: string): Float32Array => p.get(name)!.dataSync() as Float32Array

/** the encoder tensors of one modality in a depth-1 model, written out by hand */
function encoderNames(m: 'a' | 'v'): string[] {
  const block = ['norm1', 'attn.qkv', 'attn.proj', 'norm2', 'mlp.fc1', 'mlp.fc2'].flatMap((l) => [`blocks_${m}.0.${l}.weight`, `blocks_${m}.0.${l}.bias`])
  return [`modality_${m}`, `pos_embed_${m}`, `patch_embed_${m}.proj.weight`, `patch_embed_${m}.proj.bias`, ...block, `norm_${m}.weight`, `norm_${m}.bias`]
}

describe('fine-tuning model: what is loaded', () => {
  const pretrained = (): Params => createParams(MICRO_MODEL, 11)

  it.each(FINETUNE_MODALITIES)('%s: loads exactly the encoders and final norms, heads stay fresh', (modality) => {
    const source = pretrained()
    const dict = toTensorDict(source)
    const s = spec(modality)
    const params = createClassifierParams(s, 3, false)
    const fresh = createClassifierParams(s, 3, false)
    const loaded = loadEncoderWeights(params, s, dict, 'ours', 'run r1')
    const mods: Array<'a' | 'v'> = modality === 'audio' ? ['a'] : modality === 'visual' ? ['v'] : ['a', 'v']
    const expected = mods.flatMap(encoderNames)
    expect([...loaded].sort()).toEqual([...expected].sort())
    const heads = modality === 'audio-visual'
      ? ['pred_a_inter.weight', 'pred_a_inter.bias', 'pred_v_inter.weight', 'pred_v_inter.bias', 'mlp_head.0.weight', 'mlp_head.0.bias']
      : ['mlp_head.0.weight', 'mlp_head.0.bias']
    expect([...params.keys()].sort()).toEqual([...expected, ...heads].sort())
    for (const name of expected) expect(values(params, name)).toEqual(values(source, name))
    for (const name of heads) {
      expect(values(params, name)).toEqual(values(fresh, name)) // untouched by loading
      expect(dict.has(name)).toBe(false) // nothing of that name exists in the pretrained model
    }
    expect(params.get('mlp_head.0.weight')!.shape).toEqual(modality === 'audio-visual' ? [2 * MICRO_MODEL.interProjOutDim, C] : [MICRO_MODEL.embedDim, C])
    // the predictor, the intra heads, the augmented-view norms and the pretrained MLP heads are not taken over
    for (const name of params.keys()) expect(name).not.toMatch(/^(cross_attn|aug_encoder|pred_._intra|norm_._aug|pred_._inter\.(fc|norm))/)
    ;[source, params, fresh].forEach((p) => p.forEach((v) => v.dispose()))
  })

  it('reads an official state dict (prefixed keys, PyTorch layouts) to the same values as our own checkpoint', () => {
    const source = pretrained()
    const s = spec('audio-visual')
    const ours = createClassifierParams(s, 3, false)
    const official = createClassifierParams(s, 3, false)
    loadEncoderWeights(ours, s, toTensorDict(source), 'ours', 'run')
    loadEncoderWeights(official, s, officialFromParams(source, MICRO_MODEL), 'official', 'model.pth')
    for (const name of ours.keys()) expect(values(official, name)).toEqual(values(ours, name))
    ;[source, ours, official].forEach((p) => p.forEach((v) => v.dispose()))
  })

  it('names the file and the tensor when a checkpoint does not fit', () => {
    const source = pretrained()
    const dict = toTensorDict(source)
    dict.delete('blocks_v.0.attn.qkv.weight')
    const params = createClassifierParams(spec('visual'), 3, false)
    expect(() => loadEncoderWeights(params, spec('visual'), dict, 'ours', 'runs/r1/step-5')).toThrow(/runs\/r1\/step-5: no tensor blocks_v\.0\.attn\.qkv\.weight/)
    const big = toTensorDict(source)
    big.set('norm_v.weight', { shape: [7], dtype: 'F32', data: new Float32Array(7) })
    expect(() => loadEncoderWeights(params, spec('visual'), big, 'ours', 'x.safetensors')).toThrow(/x\.safetensors: norm_v\.weight has shape \[7\]/)
    ;[source, params].forEach((p) => p.forEach((v) => v.dispose()))
  })
})

describe('fine-tuning step', () => {
  const clips = [0, 1, 2, 3].map((i) => ({ ...syntheticClip(i, 0, MICRO_MODEL), label: i % C }))

  for (const modality of FINETUNE_MODALITIES) {
    for (const linearProbe of [false, true]) {
      it(`${modality}${linearProbe ? ' linear probe' : ''}: one step with a finite loss${linearProbe ? ', encoders unchanged' : ''}`, () => {
        const s = spec(modality)
        const params = createClassifierParams(s, 5, linearProbe)
        const before = new Map([...params].map(([k, v]) => [k, Float32Array.from(v.dataSync())]))
        const opt = new AdamW(params)
        const loss = finetuneStep(params, opt, s, 'bce', clips, { train: true, rng: new Rng(1), mixup: 0.5 }, 1e-2)
        expect(Number.isFinite(loss)).toBe(true)
        expect(loss).toBeGreaterThan(0)
        const changed = (name: string): boolean => values(params, name).some((x, i) => x !== before.get(name)![i])
        const encoder = modality === 'visual' ? 'blocks_v.0.mlp.fc1.weight' : 'blocks_a.0.mlp.fc1.weight'
        expect(changed('mlp_head.0.weight')).toBe(true)
        expect(changed(encoder)).toBe(!linearProbe)
        if (linearProbe) for (const [name, v] of params) if (!v.trainable) expect(changed(name)).toBe(false)
        opt.dispose()
        params.forEach((v) => v.dispose())
      })
    }
  }

  it('the CE loss of a step equals the cross-entropy of the logits it started from', () => {
    const s = spec('visual')
    const params = createClassifierParams(s, 5, true)
    const batch = classifierBatch(clips, s, 'ce', { train: true, rng: new Rng(9), mixup: 0 })
    const logits = tf.tidy(() => classifierLogits(params, s, { v: tf.tensor4d(batch.v!, [4, 3, 32, 32]) }).arraySync())
    const expected = -logits.reduce((acc, row, i) => acc + row[i % C] - Math.log(row.reduce((z, x) => z + Math.exp(x), 0)), 0) / 4
    const opt = new AdamW(params)
    const loss = finetuneStep(params, opt, s, 'ce', clips, { train: true, rng: new Rng(9), mixup: 0 }, 1e-3)
    expect(loss).toBeCloseTo(expected, 5)
    opt.dispose()
    params.forEach((v) => v.dispose())
  })
})

describe('fine-tuning losses', () => {
  it('BCE with logits matches the closed form, and stays finite for large logits', () => {
    const x = [[0, 2], [-1, 3]]
    const y = [[1, 0], [0, 1]]
    const sig = (v: number): number => 1 / (1 + Math.exp(-v))
    let ref = 0
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) ref -= y[i][j] * Math.log(sig(x[i][j])) + (1 - y[i][j]) * Math.log(1 - sig(x[i][j]))
    expect(bceWithLogits(tf.tensor2d(x), tf.tensor2d(y)).dataSync()[0]).toBeCloseTo(ref / 4, 5)
    // y = 0 with logit 100 costs 100; y = 1 with logit 100 costs e^-100 ≈ 0
    expect(bceWithLogits(tf.tensor2d([[100, 100]]), tf.tensor2d([[0, 1]])).dataSync()[0]).toBeCloseTo(50, 4)
  })

  it('CE matches −log softmax, and soft targets weight the classes', () => {
    const l = [1, 2, 3]
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3))
    expect(softTargetCrossEntropy(tf.tensor2d([l]), tf.tensor2d([[0, 0, 1]])).dataSync()[0]).toBeCloseTo(lse - 3, 5)
    expect(softTargetCrossEntropy(tf.tensor2d([l, l]), tf.tensor2d([[0.3, 0.7, 0], [1, 0, 0]])).dataSync()[0]).toBeCloseTo((0.3 * (lse - 1) + 0.7 * (lse - 2) + (lse - 1)) / 2, 5)
  })
})

describe('mixup and batches', () => {
  it('blends rows with their partner as computed by hand', () => {
    const x = Float32Array.from([1, 2, 10, 20])
    const out = mixRows(x, 2, [{ partner: 1, lambda: 0.25 }, { partner: 1, lambda: 1 }])
    expect(Array.from(out)).toEqual([0.25 * 1 + 0.75 * 10, 0.25 * 2 + 0.75 * 20, 10, 20])
    expect(planMixup(new Rng(1), 3, 0)).toEqual([0, 1, 2].map((i) => ({ partner: i, lambda: 1 })))
  })

  it('draws λ from Beta(10, 10): mean 1/2, variance 1/84', () => {
    const rng = new Rng(3)
    const xs = Array.from({ length: 20000 }, () => sampleBeta(rng, 10, 10))
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length
    expect(mean).toBeCloseTo(0.5, 2)
    expect(variance).toBeGreaterThan((1 / 84) * 0.93)
    expect(variance).toBeLessThan((1 / 84) * 1.07)
  })

  it('leaves the training fbank in place with timeRoll false, drawing the same frames', () => {
    const s = spec('audio-visual')
    const clips = [0, 1, 2].map((i) => syntheticClip(i, 0, MICRO_MODEL))
    const rolled = classifierBatch(clips, s, 'bce', { train: true, rng: new Rng(5), mixup: 0 })
    const kept = classifierBatch(clips, s, 'bce', { train: true, rng: new Rng(5), mixup: 0, timeRoll: false })
    const n = MICRO_MODEL.audioLength * MICRO_MODEL.numMelBins
    clips.forEach((c, i) => expect(kept.a!.subarray(3 * i * n, (3 * i + 1) * n)).toEqual(c.fbank))
    expect(kept.a).not.toEqual(rolled.a)
    expect(kept.v).toEqual(rolled.v)
  })

  it('a mixed batch is the same blend of the fbank, the frame and the targets', () => {
    const s = spec('audio-visual')
    const clips = [0, 1, 2].map((i) => ({ ...syntheticClip(i, 0, MICRO_MODEL), labels: [i, 3] }))
    const plain = classifierBatch(clips, s, 'bce', { train: true, rng: new Rng(4), mixup: 0 })
    const rng = new Rng(4)
    const mixed = classifierBatch(clips, s, 'bce', { train: true, rng, mixup: 1 })
    // replay the plan: same draws for the views, then the plan
    const replay = new Rng(4)
    clips.forEach((c) => {
      replay.randint(-MICRO_MODEL.audioLength, MICRO_MODEL.audioLength)
      replay.randint(0, c.frames.length)
    })
    const plan = planMixup(replay, 3, 1)
    expect(plan.some((p) => p.lambda !== 1)).toBe(true)
    const aLen = 3 * 32 * 32
    expect(mixed.a).toEqual(mixRows(plain.a!, aLen, plan))
    expect(mixed.v).toEqual(mixRows(plain.v!, aLen, plan))
    const { partner, lambda } = plan[0]
    const t0 = Array.from(mixed.targets.subarray(0, C))
    const own = [1, 0, 0, 1]
    const other = Array.from(clipTargets(clips[partner], C, 'bce'))
    own.forEach((v, k) => expect(t0[k]).toBeCloseTo(lambda * v + (1 - lambda) * other[k], 6))
  })

  it('evaluation batches use the un-rolled fbank and the middle frame; targets per loss', () => {
    const clip = { ...syntheticClip(2, 0, { ...MICRO_MODEL, frames: 5 }), label: 1, labels: [1, 3] }
    const b = classifierBatch([clip], spec('audio-visual'), 'bce', { train: false })
    expect(b.a).toEqual(rollAndTile(clip.fbank, 32, 32, 0))
    expect(b.v).toEqual(normalizeFrame(clip.frames[2], OFFICIAL_INPUT_NORM.frame))
    expect(Array.from(b.targets)).toEqual([0, 1, 0, 1])
    expect(Array.from(clipTargets(clip, C, 'ce'))).toEqual([0, 1, 0, 0])
    expect(() => clipTargets({ ...clip, label: -1 }, C, 'ce')).toThrow(/clip synthetic-2 has label -1/)
  })
})

describe('classification metrics', () => {
  it('top-1 / top-5 and per-class accuracy (CE), AP per class (BCE), on a hand case', () => {
    // 3 clips, 2 classes; first labels 0, 1, 1
    const scores = Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.7, 0.3])
    const targets = Float32Array.from([1, 0, 0, 1, 0, 1])
    const s = { ids: ['a', 'b', 'c'], scores, targets, labels: [0, 1, 1] }
    const ce = classificationMetrics(s, ['zero', 'one'], 'ce')
    expect(ce.top1).toBeCloseTo(200 / 3, 6)
    expect(ce.top5).toBe(100)
    expect(ce.per_class).toEqual({ zero: { n: 1, top1: 100 }, one: { n: 2, top1: 50 } })
    const bce = classificationMetrics(s, ['zero', 'one'], 'bce')
    // class 0: ranking a(+) c b → AP 1; class 1: b(0.8,+) c(0.3,+) a(0.1) → AP 1
    expect(bce.per_class).toEqual({ zero: { n: 1, AP: 1 }, one: { n: 2, AP: 1 } })
    expect(bce.mAP).toBe(1)
    const worse = classificationMetrics({ ...s, scores: Float32Array.from([0.1, 0.9, 0.8, 0.2, 0.7, 0.3]) }, ['zero', 'one'], 'bce')
    // class 0 scores a .1 b .8 c .7, positive a ranked 3rd → AP 1/3; class 1: a .9(−) c .3(+) b .2(+) → (1/2·1/2)+(1/2·2/3)
    expect(worse.per_class.zero).toEqual({ n: 1, AP: expect.closeTo(1 / 3, 6) })
    expect(worse.per_class.one).toEqual({ n: 2, AP: expect.closeTo(0.25 + 1 / 3, 6) })
  })
})

describe('runFinetune: cancel and resume', () => {
  it('stops cleanly with a checkpoint, and --resume continues the same metrics timeline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'equiav-ft-'))
    try {
      const source = createParams(MICRO_MODEL, 2)
      const pretrained = { lineage: { from: 'p', kind: 'run' as const, step: 7 }, weights: toTensorDict(source), layout: 'ours' as const }
      source.forEach((v) => v.dispose())
      const sources = { train: syntheticSource(8, 0, MICRO_MODEL), eval: { split: 'test', source: syntheticHeldOut(8, 4, 0, MICRO_MODEL) } }
      const opts = {
        ...FINETUNE_DEFAULTS,
        runDir: join(dir, 'f'),
        model: MICRO_MODEL,
        preset: 'tiny',
        modality: 'audio' as const,
        linearProbe: false,
        mixup: 0,
        classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
        steps: 4,
        batchSize: 2,
        resume: false,
        data: { kind: 'synthetic' as const, clips: 8 }
      }
      const controller = new AbortController()
      const ctx = { signal: controller.signal, log: () => {}, metrics: () => {}, progress: (p: { done: number }) => p.done === 2 && controller.abort() }
      const first = await runFinetune(opts, pretrained, sources, ctx)
      expect(first).toMatchObject({ cancelled: true, finalStep: 2 })
      const quiet = { signal: new AbortController().signal, log: () => {}, metrics: () => {}, progress: () => {} }
      const second = await runFinetune({ ...opts, resume: true, lr: 3e-4 }, pretrained, sources, quiet)
      expect(second).toMatchObject({ cancelled: false, startStep: 2, finalStep: 4 })
      const rows = (await readFile(join(dir, 'f', 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { step: number; lr: number; eval_split?: string })
      expect(rows.map((r) => r.step)).toEqual([1, 2, 3, 4])
      expect(rows.filter((r) => r.eval_split === 'test').map((r) => r.step)).toEqual([4]) // 4 steps per epoch
      const config = JSON.parse(await readFile(join(dir, 'f', 'config.json'), 'utf8'))
      expect(config.lineage).toEqual({ from: 'p', kind: 'run', step: 7 })
      // --resume --lr: the new peak from the resumed step, recorded
      expect(config).toMatchObject({ lr: 3e-4, lrChanges: [{ step: 2, from: FINETUNE_DEFAULTS.lr, to: 3e-4 }] })
      const schedule = { warmupSteps: config.warmupSteps, totalSteps: 4 }
      expect(rows.map((r) => r.lr)).toEqual([0, 1, 2, 3].map((k) => warmupCosineLr(k, { ...schedule, baseLr: k < 2 ? FINETUNE_DEFAULTS.lr : 3e-4 })))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
