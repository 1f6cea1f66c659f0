/**
 * What the player gets for a clip: its own file when Chromium plays it (data/playability.ts), else the
 * cached H.264/AAC transcode (data/transcode-cache.ts), started on the first request and shared by the media
 * endpoint and the `datasets.playback` method. The decision is probed once per file version.
 */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Playback } from '../../shared/contract'
import { probeMedia } from '../data/ffmpeg'
import { type Playability, playability } from '../data/playability'
import { TranscodeCache, transcodeName } from '../data/transcode-cache'
import { datasetDir } from '../workspace'

type Pending = Extract<Playback, { state: 'queued' | 'transcoding' | 'failed' }>

export type ClipPlay =
  /** the file to serve and its Content-Type */
  | { playback: Exclude<Playback, Pending>; file: { path: string; type: string } }
  | { playback: Pending; file?: undefined }

export class ClipPlayback {
  private readonly decisions = new Map<string, Playability>()

  constructor(
    private readonly workspace: string,
    readonly transcodes = new TranscodeCache()
  ) {}

  /** `path`: the clip's file, already checked to be the one probed at import (media.ts servedFile) */
  async of(dataset: string, path: string, duration: number | null): Promise<ClipPlay> {
    const st = await stat(path)
    if (st.size === 0) throw new Error('the file is empty')
    const source = { path, size: st.size, mtimeMs: st.mtimeMs, duration: duration ?? 0 }
    const key = transcodeName(source)
    let decision = this.decisions.get(key)
    if (!decision) {
      // the message reaches the workbench, which never sees file paths
      const probe = await probeMedia(path).catch((err: Error) => {
        throw new Error(`it cannot be probed: ${err.message.replace(`${path}: `, '')}`)
      })
      decision = playability({ formatName: probe.formatName, video: probe.video?.codec, audio: probe.audio?.codec })
      this.decisions.set(key, decision)
    }
    if (decision.playable) return { playback: { state: 'original' }, file: { path, type: decision.type } }
    const original = decision.original
    const t = await this.transcodes.request(join(datasetDir(this.workspace, dataset), 'playback'), source)
    if (t.state === 'ready') return { playback: { state: 'ready', original }, file: { path: t.path, type: 'video/mp4' } }
    return { playback: { ...t, original } }
  }
}
