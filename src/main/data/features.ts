/** Features of one media file, as the official pipeline computes them. */
import { EQUIAV_FBANK_OPTIONS, equiavFbank } from './fbank'
import { type RunOptions, decodeAudio } from './ffmpeg'
import { MediaError } from './media-types'

/**
 * The raw Kaldi fbank [frames × 128] of a file's first audio channel at 16 kHz (not padded or
 * normalised). Throws MediaError 'too-short' when the audio is shorter than one 25 ms frame.
 */
export async function fbankOfFile(path: string, options: RunOptions = {}): Promise<Float32Array> {
  const sampleRate = EQUIAV_FBANK_OPTIONS.sampleFrequency
  const waveform = await decodeAudio(path, { sampleRate, signal: options.signal })
  const fbank = equiavFbank(waveform, sampleRate)
  if (fbank.length === 0) throw new MediaError(path, 'too-short', `audio is ${waveform.length} samples, shorter than one ${EQUIAV_FBANK_OPTIONS.frameLength} ms frame`)
  return fbank
}
