/**
 * The renderer's one API client. In the Electron app the preload exposes `window.equiav`; in a browser
 * (equiav serve) calls go over HTTP, authenticated by the cookie the token URL set. Views cannot tell which.
 */
import type { ApiClient, Input, Method, Output } from '../../shared/contract'

type Bridge = { [M in Method]: (input: Input<M>) => Promise<Output<M>> }

declare global {
  interface Window {
    equiav?: Bridge
  }
}

const httpClient: ApiClient = {
  async call(method, input) {
    const res = await fetch(`/api/${method}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(input) })
    const body = await res.json()
    if (!res.ok) throw new Error(body.error ?? `${method} failed with HTTP ${res.status}`)
    return body
  }
}

const ipcClient = (bridge: Bridge): ApiClient => ({
  call: (method, input) => (bridge[method] as (i: typeof input) => Promise<Output<typeof method>>)(input)
})

export const api: ApiClient = window.equiav ? ipcClient(window.equiav) : httpClient
