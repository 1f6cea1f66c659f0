/**
 * The renderer's one API client. In the Electron app the preload exposes `window.equiav`; in a browser
 * (equiav serve) calls go over HTTP and events over a WebSocket, authenticated by the cookie the token URL
 * set. Views cannot tell which.
 */
import type { ApiClient } from '../../shared/contract'
import { type Bridge, httpClient, ipcClient } from '../../shared/client'

declare global {
  interface Window {
    equiav?: Bridge
  }
}

export const api: ApiClient = window.equiav
  ? ipcClient(window.equiav)
  : httpClient({
      base: '',
      eventsUrl: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/events`,
      fetch: (...a) => fetch(...a),
      socket: (url) => new WebSocket(url)
    })
