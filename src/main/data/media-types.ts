/** What ffprobe tells us about one media file (src/main/data/ffmpeg.ts `probeMedia`). */
export interface MediaProbe {
  path: string
  /** container duration in seconds */
  duration: number
  formatName: string
  audio?: { codec: string; sampleRate: number; channels: number; duration?: number }
  video?: { codec: string; width: number; height: number; fps: number; frames?: number; duration?: number }
}

/** Why a file cannot be used; every quarantined clip carries one of these plus a human-readable detail. */
export type QuarantineReason =
  | 'not-media'
  | 'no-audio'
  | 'no-video'
  | 'corrupt'
  | 'too-short'
  | 'unreadable'
  | 'directory'
  | 'duplicate'

export class MediaError extends Error {
  constructor(
    readonly file: string,
    readonly reason: QuarantineReason,
    detail: string
  ) {
    super(`${file}: ${detail}`)
  }
}
