/** The transcode cache as the inspector uses it. */
import type { TranscodeCache, TranscodeSource, TranscodeState } from '../../src/main/data/transcode-cache'

/** Asks again every 10 ms until the transcode has finished, as the inspector polls. */
export async function finished(cache: TranscodeCache, dir: string, source: TranscodeSource): Promise<TranscodeState> {
  for (;;) {
    const s = await cache.request(dir, source)
    if (s.state !== 'queued' && s.state !== 'transcoding') return s
    await new Promise((ok) => setTimeout(ok, 10))
  }
}
