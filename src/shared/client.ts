/**
 * The two ways a page reaches the API, behind one ApiClient: the preload bridge (Electron) or HTTP plus a
 * WebSocket event stream (`equiav serve`). Runtime-neutral: fetch and the socket are passed in, so tests
 * drive both against a real server or an in-memory fake.
 */
import type { ApiClient, EventName, EventPayload, Input, Method, Output } from './contract'
import { MEDIA_SCHEME, mediaPath } from './media'
import { binaryPath, isBinaryMethod } from './contract/analysis'

type Handler = (payload: unknown) => void

/** Handlers per event name. */
class Listeners {
  private readonly map = new Map<EventName, Set<Handler>>()
  add(event: EventName, h: Handler): () => void {
    let set = this.map.get(event)
    if (!set) this.map.set(event, (set = new Set()))
    set.add(h)
    return () => set.delete(h)
  }
  emit(event: EventName, payload: unknown): void {
    for (const h of this.map.get(event) ?? []) h(payload)
  }
}

/** What the preload exposes as window.equiav: one function per method, and `on` for events. */
export type Bridge = { [M in Method]: (input: Input<M>) => Promise<Output<M>> } & {
  on(event: EventName, handler: (payload: unknown) => void): () => void
}

export function ipcClient(bridge: Bridge): ApiClient {
  return {
    mediaUrl: (dataset, clipId, what) => `${MEDIA_SCHEME}://workbench${mediaPath(dataset, clipId, what)}`,
    call: <M extends Method>(method: M, input: Input<M>) => (bridge[method] as unknown as (i: Input<M>) => Promise<Output<M>>)(input),
    on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void) {
      // IPC never drops: "connected" once, for whoever asks
      if (event === 'api.connected') {
        let live = true
        queueMicrotask(() => live && handler({} as EventPayload<E>))
        return () => (live = false)
      }
      return bridge.on(event, handler as Handler)
    }
  }
}

/** The few members of a WebSocket the client uses (the browser's, or the `ws` package's in tests). */
export interface SocketLike {
  // `never` parameters: any socket's own event types fit, and the client reads only `data`
  onopen: ((ev: never) => unknown) | null
  onmessage: ((ev: never) => unknown) | null
  onclose: ((ev: never) => unknown) | null
  close(): void
}

export interface HttpClientOptions {
  /** origin of the server, '' for the page's own */
  base: string
  /** the event stream's address: ws://host:port/events */
  eventsUrl: string
  fetch: typeof fetch
  /** opens the event stream (ws://host/events) */
  socket: (url: string) => SocketLike
  /** extra request headers (a Bearer token outside a browser) */
  headers?: Record<string, string>
  /** wait before reconnecting a dropped event stream */
  retryMs?: number
}

export function httpClient(o: HttpClientOptions): ApiClient & { close(): void } {
  const listeners = new Listeners()
  let socket: SocketLike | null = null
  /** the event stream is open: a listener to 'api.connected' added now is told at once */
  let open = false
  let closed = false
  let retry: ReturnType<typeof setTimeout> | undefined

  const connect = (): void => {
    const s = o.socket(o.eventsUrl)
    socket = s
    s.onopen = () => {
      open = true
      listeners.emit('api.connected', {})
    }
    s.onmessage = (ev: { data: unknown }) => {
      const msg = JSON.parse(String(ev.data)) as { event: EventName; payload: unknown }
      listeners.emit(msg.event, msg.payload)
    }
    s.onclose = () => {
      socket = null
      open = false
      if (!closed) retry = setTimeout(connect, o.retryMs ?? 1000)
    }
  }

  return {
    mediaUrl: (dataset, clipId, what) => `${o.base}${mediaPath(dataset, clipId, what)}`,
    async call<M extends Method>(method: M, input: Input<M>): Promise<Output<M>> {
      const res = isBinaryMethod(method)
        ? await o.fetch(`${o.base}${binaryPath(method, input as Input<typeof method>)}`, { headers: { ...o.headers } })
        : await o.fetch(`${o.base}/api/${method}`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', ...o.headers },
            body: JSON.stringify(input)
          })
      if (res.ok && res.headers.get('content-type') === 'application/octet-stream') return new Uint8Array(await res.arrayBuffer()) as Output<M>
      const body = (await res.json()) as unknown
      if (!res.ok) throw new Error((body as { error?: string }).error ?? `${method} failed with HTTP ${res.status}`)
      return body as Output<M>
    },
    on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void) {
      if (!socket && !closed && retry === undefined) connect()
      const off = listeners.add(event, handler as Handler)
      // a store created after the stream opened (a view visited later) still loads once
      if (event === 'api.connected' && open) queueMicrotask(() => open && handler({} as EventPayload<E>))
      return off
    },
    close() {
      closed = true
      clearTimeout(retry)
      socket?.close()
    }
  }
}
