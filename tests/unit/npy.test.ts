import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeNpy, encodeNpy, readNpy, writeNpy } from '../../src/main/data/npy'

const tmp = mkdtempSync(join(tmpdir(), 'equiav-npy-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const ascii = (b: Uint8Array): string => String.fromCharCode(...b)

function hasNumpy(): boolean {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('npy', () => {
  it('writes the header np.save writes: magic, v1.0, dict padded to 64 bytes with a newline', () => {
    const bytes = encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3])
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0])
    expect(bytes[8] | (bytes[9] << 8)).toBe(118)
    const header = ascii(bytes.subarray(10, 128))
    expect(header).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + ' '.repeat(58) + '\n')
    expect(bytes.length).toBe(128 + 6 * 4)
    // 1.0f little-endian
    expect(Array.from(bytes.subarray(128, 132))).toEqual([0x00, 0x00, 0x80, 0x3f])
  })

  it('writes 1-d shapes as one-element tuples and round-trips', async () => {
    const data = Float32Array.from([0.5, -1.25, 3e-8, 1e9, -0])
    const path = join(tmp, 'v.npy')
    await writeNpy(path, data, [5])
    expect(ascii(encodeNpy(data, [5]).subarray(10, 70))).toContain("'shape': (5,), }")
    const back = await readNpy(path)
    expect(back.shape).toEqual([5])
    expect(Array.from(back.data)).toEqual(Array.from(data))
  })

  it('rejects a shape that does not hold the data, and foreign files', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/does not hold/)
    expect(() => decodeNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))).toThrow(/not a .npy/)
    const f8 = encodeNpy(new Float32Array(1), [1])
    f8.set(Array.from("'<f8'", (c) => c.charCodeAt(0)), 19)
    expect(() => decodeNpy(f8)).toThrow(/only C-order little-endian float32/)
  })

  it.skipIf(!hasNumpy())('is read by numpy itself', async () => {
    const path = join(tmp, 'm.npy')
    await writeNpy(path, Float32Array.from({ length: 12 }, (_, i) => i / 4), [3, 4])
    const out = execFileSync('python3', ['-c', `import numpy as np; a = np.load(${JSON.stringify(path)}); print(a.dtype, a.shape, a[2, 3])`])
    expect(out.toString().trim()).toBe('float32 (3, 4) 2.75')
  })
})
