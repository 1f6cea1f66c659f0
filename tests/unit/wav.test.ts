import { describe, expect, it } from 'vitest'
import { encodeWav16, parseWav16 } from '../../src/main/data/wav'

describe('encodeWav16', () => {
  it('writes a mono 16-bit PCM RIFF header and samples scaled by 32768, rounded and clipped', () => {
    const bytes = encodeWav16(new Float32Array([0, 0.5, -1, 1, 1.5, -0.25, 3 / 32768 + 0.4 / 32768]), 16000)
    const v = new DataView(bytes.buffer)
    const ascii = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4))
    expect([ascii(0), v.getUint32(4, true), ascii(8), ascii(12), ascii(36)]).toEqual(['RIFF', 36 + 14, 'WAVE', 'fmt ', 'data'])
    expect([v.getUint16(20, true), v.getUint16(22, true), v.getUint32(24, true), v.getUint32(28, true), v.getUint16(32, true), v.getUint16(34, true), v.getUint32(40, true)]).toEqual([1, 1, 16000, 32000, 2, 16, 14])
    expect(Array.from({ length: 7 }, (_, i) => v.getInt16(44 + 2 * i, true))).toEqual([0, 16384, -32768, 32767, 32767, -8192, 3])
  })
})

describe('parseWav16', () => {
  it('reads back what encodeWav16 wrote, as x / 32768, and names a rate it did not expect', () => {
    const bytes = encodeWav16(new Float32Array([0, 0.5, -1, 1, -0.25]), 16000)
    expect(Array.from(parseWav16(bytes, 16000))).toEqual([0, 0.5, -1, 32767 / 32768, -0.25])
    expect(() => parseWav16(bytes, 22050)).toThrow(/PCM 16-bit mono 22050 Hz, got format 1, 1 ch, 16 bit, 16000 Hz/)
  })
})
