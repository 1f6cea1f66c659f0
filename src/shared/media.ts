/**
 * Addresses of a clip's media: /media/<dataset>/<clip id>/<what>, each segment URI-encoded (clip ids hold
 * '/'). Served by `equiav serve` at that path and in Electron by the equiav-media: protocol.
 */
export type MediaWhat = 'video' | 'audio.wav' | 'thumb.jpg' | 'spectrogram.png' | `frame/${number}.png`

export const MEDIA_SCHEME = 'equiav-media'

export function mediaPath(dataset: string, clipId: string, what: MediaWhat): string {
  return `/media/${encodeURIComponent(dataset)}/${encodeURIComponent(clipId)}/${what}`
}
