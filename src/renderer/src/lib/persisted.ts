/** A ref kept in localStorage under `key`: read once (fields missing or of another type fall back to `initial`), saved on every change. */
import { type Ref, ref, watch } from 'vue'

export function persisted<T extends Record<string, unknown>>(key: string, initial: T): Ref<T> {
  let stored: Partial<T> = {}
  try {
    const raw = JSON.parse(localStorage.getItem(key) ?? '{}') as Record<string, unknown>
    stored = Object.fromEntries(Object.entries(raw).filter(([k, v]) => k in initial && (typeof v === typeof initial[k] || initial[k] === null))) as Partial<T>
  } catch {
    // an unreadable entry: start from the defaults
  }
  const state = ref({ ...initial, ...stored }) as Ref<T>
  watch(state, (v) => localStorage.setItem(key, JSON.stringify(v)), { deep: true })
  return state
}
