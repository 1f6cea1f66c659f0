/**
 * Decides whether one file can be a training clip, and if not, why. Every failure becomes a MediaError
 * with a QuarantineReason; nothing here throws anything else for bad input.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { checkFullDecode, decodeAudio, probeMedia } from './ffmpeg'
import { fbankFrameCount } from './fbank'
import { MediaError, type MediaProbe } from './media-types'

export interface InspectedClip {
  probe: MediaProbe
  size: number
  mtimeMs: number
  hash: string
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256')
    createReadStream(path)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')))
  })
}

export async function inspectClip(path: string): Promise<InspectedClip> {
  let info
  try {
    info = await stat(path)
  } catch (err) {
    throw new MediaError(path, 'unreadable', `cannot read: ${(err as Error).message}`)
  }
  if (info.isDirectory()) throw new MediaError(path, 'directory', 'is a directory, not a media file')
  const probe = await probeMedia(path)
  if (!probe.audio) throw new MediaError(path, 'no-audio', 'has no audio stream')
  if (!probe.video) throw new MediaError(path, 'no-video', 'has no video stream')
  await checkFullDecode(path) // damage in the middle of a clip shows only when every packet is decoded
  let samples: Float32Array
  try {
    samples = await decodeAudio(path)
  } catch (err) {
    if (err instanceof MediaError) throw err
    throw new MediaError(path, 'corrupt', `audio does not decode: ${(err as Error).message.split('\n')[0]}`)
  }
  if (fbankFrameCount(samples.length) < 1) {
    throw new MediaError(path, 'too-short', `audio is ${(samples.length / 16).toFixed(1)} ms, shorter than one 25 ms fbank frame`)
  }
  return { probe, size: info.size, mtimeMs: info.mtimeMs, hash: await sha256File(path) }
}
