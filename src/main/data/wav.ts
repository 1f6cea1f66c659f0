/**
 * 16-bit PCM WAV, the format CAV-MAE's extract_audio.py leaves (`ffmpeg -ar 16000` then `sox … remix 1`):
 * one channel, little-endian, 44-byte RIFF header. The one WAV reader and writer: exports, the media the
 * workbench plays, and the demo's recorded voices.
 */

/** Float samples in [−1, 1] → a mono 16-bit WAV file's bytes; conversion as ffmpeg's (x·32768, rounded, clipped). */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  const dataBytes = samples.length * 2
  const out = new Uint8Array(44 + dataBytes)
  const v = new DataView(out.buffer)
  const ascii = (at: number, s: string): void => [...s].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)))
  ascii(0, 'RIFF')
  v.setUint32(4, 36 + dataBytes, true)
  ascii(8, 'WAVE')
  ascii(12, 'fmt ')
  v.setUint32(16, 16, true) // fmt chunk size
  v.setUint16(20, 1, true) // PCM
  v.setUint16(22, 1, true) // channels
  v.setUint32(24, sampleRate, true)
  v.setUint32(28, sampleRate * 2, true) // byte rate
  v.setUint16(32, 2, true) // block align
  v.setUint16(34, 16, true) // bits per sample
  ascii(36, 'data')
  v.setUint32(40, dataBytes, true)
  for (let i = 0; i < samples.length; i++) v.setInt16(44 + 2 * i, Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32768))), true)
  return out
}

/** A mono 16-bit PCM WAV file's bytes → samples in [−1, 1] (x / 32768, the inverse of encodeWav16). */
export function parseWav16(bytes: Uint8Array, expectRate: number): Float32Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const ascii = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4))
  if (ascii(0) !== 'RIFF' || ascii(8) !== 'WAVE') throw new Error('not a WAV file')
  let fmtOk = false
  for (let p = 12; p + 8 <= bytes.length; ) {
    const id = ascii(p)
    const size = v.getUint32(p + 4, true)
    if (id === 'fmt ') {
      const [format, channels, rate, bits] = [v.getUint16(p + 8, true), v.getUint16(p + 10, true), v.getUint32(p + 12, true), v.getUint16(p + 22, true)]
      if (format !== 1 || channels !== 1 || bits !== 16 || rate !== expectRate) {
        throw new Error(`WAV must be PCM 16-bit mono ${expectRate} Hz, got format ${format}, ${channels} ch, ${bits} bit, ${rate} Hz`)
      }
      fmtOk = true
    } else if (id === 'data') {
      if (!fmtOk) throw new Error('WAV data chunk before fmt chunk')
      const n = Math.min(size, bytes.length - p - 8) >> 1
      const out = new Float32Array(n)
      for (let i = 0; i < n; i++) out[i] = v.getInt16(p + 8 + 2 * i, true) / 32768
      return out
    }
    p += 8 + size + (size & 1)
  }
  throw new Error('WAV has no data chunk')
}
