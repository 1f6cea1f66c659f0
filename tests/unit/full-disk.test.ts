/**
 * A full disk. On a small tmpfs where this process may mount one (root on Linux); elsewhere (CI without
 * mount rights) on a simulated disk of the same size: statfs reports its free space and writes past it
 * fail with ENOSPC, as the kernel's would (EQUIAV_TEST_SIMULATED_DISK=1 forces this). Either way: errors
 * name the file and the bytes, a checkpoint that would not fit is refused before anything is written, and
 * nothing already on disk is lost.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { type CheckpointContents, listCheckpoints, loadCheckpoint, saveCheckpoint } from '../../src/main/engine/checkpoint/store'
import { appendLine, writeFileAtomic } from '../../src/main/util/atomic'

const DISK = 1 << 20 // 1 MiB

/** The simulated disk: used only when no tmpfs could be mounted. */
const sim = vi.hoisted(() => ({ on: false, free: 0 }))

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>()
  const take = (n: number): void => {
    if (n > sim.free) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    sim.free -= n
  }
  const open = async (...args: Parameters<typeof real.open>): Promise<FileHandle> => {
    const handle = await real.open(...args)
    if (!sim.on) return handle
    const writeFile = handle.writeFile.bind(handle)
    const write = handle.write.bind(handle) as (b: Uint8Array, offset?: number) => Promise<{ bytesWritten: number }>
    handle.writeFile = (async (data: Uint8Array | string) => {
      take(Buffer.byteLength(data))
      await writeFile(data)
    }) as FileHandle['writeFile']
    handle.write = (async (b: Uint8Array, offset = 0) => {
      take(b.byteLength - offset)
      return write(b, offset)
    }) as FileHandle['write']
    return handle
  }
  const statfs = async (path: string): Promise<import('node:fs').StatsFs> => {
    const s = await real.statfs(path)
    return sim.on ? { ...s, bsize: 4096, bavail: Math.floor(sim.free / 4096) } : s
  }
  const rm = async (...args: Parameters<typeof real.rm>): Promise<void> => real.rm(...args) // space freed is not tracked: only makes the simulation stricter
  return { ...real, open, statfs, rm, default: { ...real, open, statfs, rm } }
})

const root = mkdtempSync(join(tmpdir(), 'equiav-full-'))
const mounted = !process.env.EQUIAV_TEST_SIMULATED_DISK && spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK}`, 'tmpfs', root]).status === 0
if (!mounted) {
  sim.on = true
  sim.free = DISK
}
afterAll(() => {
  if (mounted) spawnSync('umount', [root])
  rmSync(root, { recursive: true, force: true })
})

/** A checkpoint of about `bytes` (weights and optimizer state of equal size). */
function contents(bytes: number, value: number): CheckpointContents {
  const n = Math.floor(bytes / 8)
  return {
    weights: new Map([['w', { shape: [n], dtype: 'F32', data: new Float32Array(n).fill(value) }]]),
    optimizer: new Map([['m.w', { shape: [n], dtype: 'F32', data: new Float32Array(n).fill(value / 2) }]]),
    state: { step: value }
  }
}

describe(`a full disk (${mounted ? '1 MiB tmpfs' : 'simulated 1 MiB disk: no tmpfs could be mounted'})`, () => {
  const run = join(root, 'run')

  it('keep 1 on a disk that holds one checkpoint: the second is refused before writing, and the first survives', async () => {
    await saveCheckpoint(run, 1, contents(600_000, 1), 1)
    await expect(saveCheckpoint(run, 2, contents(600_000, 2), 1)).rejects.toThrow(
      new RegExp(
        `^${join(run, 'checkpoints')}: the checkpoint of step 2 needs 586\\.\\d KiB but only \\d+\\.\\d KiB are free; nothing was written and step-1 is still the newest checkpoint ` +
          '\\(the previous checkpoint is removed only after the new one is written and verified, so the disk must hold one more\\)$'
      )
    )
    expect(await readdir(join(run, 'checkpoints'))).toEqual(['step-1']) // no temp left behind
    expect((await loadCheckpoint(join(run, 'checkpoints', 'step-1'))).weights.get('w')!.data[0]).toBe(1)
  })

  it('with keep 1 the old checkpoint goes only once the new one is on disk and verified', async () => {
    const small = join(root, 'small')
    await saveCheckpoint(small, 1, contents(100_000, 1), 1)
    await saveCheckpoint(small, 2, contents(100_000, 2), 1)
    expect((await listCheckpoints(small)).map((c) => c.step)).toEqual([2])
    expect((await loadCheckpoint(join(small, 'checkpoints', 'step-2'))).weights.get('w')!.data[0]).toBe(2)
  })

  it('a write that runs out of space names the file and the bytes, and keeps the old content', async () => {
    const path = join(root, 'config.json')
    await writeFile(path, 'old')
    if (sim.on) sim.free = 1000
    const big = 'x'.repeat(DISK)
    await expect(writeFileAtomic(path, big)).rejects.toThrow(`${path}: no space left on the device (ENOSPC, writing 1.00 MiB); free some space and run the command again`)
    expect(await readFile(path, 'utf8')).toBe('old')
    expect((await readdir(root)).filter((f) => f.includes('.tmp-'))).toEqual([])
    await expect(appendLine(join(root, 'metrics.jsonl'), big)).rejects.toThrow(`${join(root, 'metrics.jsonl')}: no space left on the device (ENOSPC, writing 1.00 MiB)`)
  })
})
