/**
 * Whether Chromium (the workbench's browser and Electron) plays a media file as it is, decided from its
 * probe: the container as ffprobe names it and the codec of its first video and audio stream. Chromium
 * plays MP4 with H.264 / VP9 / AV1 video and AAC / MP3 / Opus / FLAC audio, WebM (Matroska holding only
 * WebM codecs) with VP8 / VP9 / AV1 and Vorbis / Opus, and the audio-only Ogg, WAV (PCM), MP3 and FLAC.
 * Anything else (AVI, cinepak or MJPEG video, H.264 in Matroska, 8-bit PCM in a video) is transcoded.
 */

/** The streams of a file: ffprobe's format_name ("mov,mp4,m4a,3gp,3g2,mj2") and codec names, absent without that stream. */
export interface PlaybackStreams {
  formatName: string
  video?: string
  audio?: string
}

export type Playability =
  /** served as it is, with this Content-Type */
  | { playable: true; type: string }
  /** `original` says what Chromium cannot play, e.g. "cinepak video and pcm_u8 audio in AVI" */
  | { playable: false; original: string }

interface Family {
  /** ffprobe's format_name for this container */
  formatName: string
  name: string
  type: string
  /** video codecs Chromium decodes in this container; empty: audio-only files */
  video: readonly string[]
  audio: readonly string[]
}

const PCM = ['pcm_u8', 'pcm_s16le', 'pcm_s24le', 'pcm_s32le', 'pcm_f32le']

const FAMILIES: readonly Family[] = [
  { formatName: 'mov,mp4,m4a,3gp,3g2,mj2', name: 'MP4/QuickTime', type: 'video/mp4', video: ['h264', 'vp9', 'av1'], audio: ['aac', 'mp3', 'opus', 'flac'] },
  { formatName: 'matroska,webm', name: 'Matroska', type: 'video/webm', video: ['vp8', 'vp9', 'av1'], audio: ['vorbis', 'opus'] },
  { formatName: 'ogg', name: 'Ogg', type: 'audio/ogg', video: [], audio: ['vorbis', 'opus', 'flac'] },
  { formatName: 'wav', name: 'WAV', type: 'audio/wav', video: [], audio: PCM },
  { formatName: 'mp3', name: 'MP3', type: 'audio/mpeg', video: [], audio: ['mp3'] },
  { formatName: 'flac', name: 'FLAC', type: 'audio/flac', video: [], audio: ['flac'] }
]

const CONTAINER_NAMES: Record<string, string> = { avi: 'AVI', asf: 'ASF', flv: 'FLV', mpeg: 'MPEG-PS', mpegts: 'MPEG-TS', '3gp': '3GP' }

function containerName(formatName: string): string {
  return FAMILIES.find((f) => f.formatName === formatName)?.name ?? CONTAINER_NAMES[formatName] ?? formatName
}

/** "cinepak video and pcm_u8 audio in AVI" */
export function describeStreams(s: PlaybackStreams): string {
  const streams = [s.video && `${s.video} video`, s.audio && `${s.audio} audio`].filter(Boolean).join(' and ')
  return `${streams || 'no stream'} in ${containerName(s.formatName)}`
}

export function playability(s: PlaybackStreams): Playability {
  const family = FAMILIES.find((f) => f.formatName === s.formatName)
  const fits =
    family !== undefined &&
    (s.video === undefined || family.video.includes(s.video)) &&
    (s.audio === undefined || family.audio.includes(s.audio)) &&
    (s.video !== undefined || s.audio !== undefined)
  return fits ? { playable: true, type: family.type } : { playable: false, original: describeStreams(s) }
}
