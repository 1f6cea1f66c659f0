import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type CheckpointContents,
  cleanIncompleteCheckpoints,
  listCheckpoints,
  loadLatestCheckpoint,
  pruneCheckpoints,
  saveCheckpoint
} from '../../src/main/runs/checkpoints'
import type { TensorDict } from '../../src/main/engine/checkpoint/tensors'

/** Values that a lossy path would mangle: NaN payload, -0, infinities, subnormal, extremes. */
const awkward = new Float32Array(new Uint32Array([0x7fc00001, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x7f7fffff, 0x3eaaaaab]).buffer)

function contents(seed: number): CheckpointContents {
  const weights: TensorDict = new Map([
    ['blocks_a.0.attn.qkv.weight', { shape: [6, 4], dtype: 'F32', data: Float32Array.from({ length: 24 }, (_, i) => Math.sin(seed + i) * 1e3) }],
    ['modality_a', { shape: [1, 7], dtype: 'F32', data: awkward }]
  ])
  const optimizer: TensorDict = new Map([['m.blocks_a.0.attn.qkv.weight', { shape: [6, 4], dtype: 'F32', data: new Float32Array(24).fill(seed / 3) }]])
  return { weights, optimizer, state: { epoch: seed, rng: { seed: 7, step: seed }, config: { embed_dim: 64 }, backend: 'wasm', note: null } }
}

function bits(t: TensorDict): Record<string, { shape: number[]; hex: string }> {
  return Object.fromEntries([...t].map(([k, v]) => [k, { shape: v.shape, hex: Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength).toString('hex') }]))
}

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ckpt-'))
})
afterAll(() => rm(root, { recursive: true, force: true }))

describe('checkpoint store', () => {
  it('round-trips weights, optimizer and state bit for bit, recording sizes and checksums', async () => {
    const run = join(root, 'roundtrip')
    const saved = contents(3)
    const info = await saveCheckpoint(run, 30, saved)
    expect(info).toEqual({ step: 30, dir: join(run, 'checkpoints', 'step-30') })
    expect((await readdir(info.dir)).sort()).toEqual(['optimizer.safetensors', 'state.json', 'weights.safetensors'])
    const manifest = JSON.parse(await readFile(join(info.dir, 'state.json'), 'utf8'))
    const weightBytes = await readFile(join(info.dir, 'weights.safetensors'))
    expect(manifest.files['weights.safetensors']).toEqual({
      bytes: weightBytes.byteLength,
      sha256: createHash('sha256').update(weightBytes).digest('hex')
    })
    const loaded = (await loadLatestCheckpoint(run))!
    expect(loaded.step).toBe(30)
    expect(loaded.dir).toBe(info.dir)
    expect(Date.parse(loaded.savedAt)).not.toBeNaN()
    expect(loaded.state).toEqual(saved.state)
    expect(bits(loaded.weights)).toEqual(bits(saved.weights))
    expect(bits(loaded.optimizer)).toEqual(bits(saved.optimizer))
  })

  it('returns null for a run without checkpoints', async () => {
    expect(await loadLatestCheckpoint(join(root, 'nothing'))).toBeNull()
  })

  it('chooses the latest by step number, not name order, and prunes the oldest', async () => {
    const run = join(root, 'order')
    for (const step of [10, 2, 9]) await saveCheckpoint(run, step, contents(step))
    expect((await listCheckpoints(run)).map((c) => c.step)).toEqual([2, 9, 10])
    const latest = (await loadLatestCheckpoint(run))!
    expect(latest.step).toBe(10)
    expect(latest.state.epoch).toBe(10)
    expect(await pruneCheckpoints(run, 2)).toEqual([2])
    expect(await readdir(join(run, 'checkpoints'))).toEqual(expect.arrayContaining(['step-9', 'step-10']))
    expect((await readdir(join(run, 'checkpoints'))).length).toBe(2)
  })

  it('replaces a checkpoint saved again at the same step', async () => {
    const run = join(root, 'resave')
    await saveCheckpoint(run, 5, contents(1))
    await saveCheckpoint(run, 5, contents(2))
    expect(await readdir(join(run, 'checkpoints'))).toEqual(['step-5'])
    expect((await loadLatestCheckpoint(run))!.state.epoch).toBe(2)
  })

  it('ignores crash leftovers and cleans them, except a live process’s', async () => {
    const run = join(root, 'crash')
    await saveCheckpoint(run, 10, contents(1))
    const ckpts = join(run, 'checkpoints')
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid! // a process that has exited
    const leftovers = [`step-20.tmp-${deadPid}`, `step-30.tmp-${process.pid}`, `step-10.del-${deadPid}`]
    for (const name of leftovers) {
      await mkdir(join(ckpts, name))
      await writeFile(join(ckpts, name, 'weights.safetensors'), 'half a file')
    }
    const live = `step-40.tmp-${process.ppid}` // another process, still running: maybe still writing
    await mkdir(join(ckpts, live))
    await mkdir(join(ckpts, 'step-50')) // a copy in progress: no state.json yet
    expect((await listCheckpoints(run)).map((c) => c.step)).toEqual([10])
    expect((await loadLatestCheckpoint(run))!.step).toBe(10)
    expect((await cleanIncompleteCheckpoints(run)).sort()).toEqual([...leftovers].sort())
    expect((await readdir(ckpts)).sort()).toEqual(['step-10', 'step-50', live].sort())
    await saveCheckpoint(run, 11, contents(2))
    expect(existsSync(join(ckpts, live))).toBe(true)
  })

  it('names the corrupt or truncated file', async () => {
    const run = join(root, 'corrupt')
    const { dir } = await saveCheckpoint(run, 1, contents(1))
    const weights = join(dir, 'weights.safetensors')
    const original = await readFile(weights)
    const flipped = Buffer.from(original)
    flipped[flipped.length - 3] ^= 0x10 // one bit of one value
    await writeFile(weights, flipped)
    await expect(loadLatestCheckpoint(run)).rejects.toThrow(`${weights}: SHA-256 does not match state.json (corrupt)`)
    await writeFile(weights, original)
    const optimizer = join(dir, 'optimizer.safetensors')
    await writeFile(optimizer, (await readFile(optimizer)).subarray(0, 40))
    await expect(loadLatestCheckpoint(run)).rejects.toThrow(new RegExp(`${optimizer}: 40 bytes, but state.json records \\d+ \\(truncated or corrupt\\)`))
  })
})
