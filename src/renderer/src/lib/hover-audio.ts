/**
 * Sound on hover: one audio element for the whole map (the view's hidden <audio>), so two clips never
 * play at once. A clip starts after the pointer has rested on it briefly (sweeping across points does not
 * fire a request per point), restarts from its beginning when hovered again, and stops when the pointer
 * leaves it or the switch is turned off.
 */
import { type Ref, onBeforeUnmount, watch } from 'vue'

const DWELL_MS = 120

export function useHoverAudio(element: Ref<HTMLAudioElement | null>, enabled: () => boolean) {
  let timer: ReturnType<typeof setTimeout> | undefined

  function stop(): void {
    clearTimeout(timer)
    element.value?.pause()
  }

  /** plays `url` from its start once the pointer has stayed on it; null stops; a newer call replaces an older one */
  function hover(url: string | null): void {
    clearTimeout(timer)
    if (!url) return stop()
    if (!enabled()) return
    timer = setTimeout(() => {
      const audio = element.value
      if (!audio) return
      if (audio.src !== new URL(url, location.href).href) audio.src = url
      audio.currentTime = 0
      // refused before the page's first click (the autoplay policy): silent until then
      audio.play().catch(() => undefined)
    }, DWELL_MS)
  }

  watch(enabled, (on) => on || stop())
  onBeforeUnmount(stop)
  return { hover, stop }
}
