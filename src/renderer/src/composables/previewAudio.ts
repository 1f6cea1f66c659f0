/**
 * One audio preview for the clip list: a clip's decoded audio played on click (or space), another clip's
 * stopping the one before; `playing` names the clip heard, for the list to mark it.
 */
import { ref } from 'vue'
import { api } from '../api'

const playing = ref<string | null>(null)
let audio: HTMLAudioElement | null = null

function stop(): void {
  audio?.pause()
  audio = null
  playing.value = null
}

/** Plays a clip's audio, or stops it when it is the one playing. */
function toggle(dataset: string, clip: string): void {
  const again = playing.value === clip
  stop()
  if (again) return
  const a = new Audio(api.mediaUrl(dataset, clip, 'audio.wav'))
  audio = a
  playing.value = clip
  a.onended = () => audio === a && stop()
  a.play().catch(() => audio === a && stop())
}

export function usePreviewAudio(): { playing: typeof playing; toggle: typeof toggle; stop: typeof stop } {
  return { playing, toggle, stop }
}
