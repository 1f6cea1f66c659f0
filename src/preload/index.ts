/**
 * Exposes the API to the page as window.equiav: one function per contract method, and `on(event, cb)`
 * for the contract's events only, passing the payload alone (never the IPC event object).
 */
import { contextBridge, ipcRenderer } from 'electron'
import { EVENTS, METHODS } from '../shared/methods'

const methods = Object.fromEntries(METHODS.map((m) => [m, (input: unknown) => ipcRenderer.invoke(`equiav:${m}`, input)]))

function on(event: string, cb: (payload: unknown) => void): () => void {
  if (!(EVENTS as readonly string[]).includes(event)) throw new Error(`no event ${event}`)
  const listener = (_e: unknown, payload: unknown): void => cb(payload)
  ipcRenderer.on(`equiav-event:${event}`, listener)
  return () => {
    ipcRenderer.removeListener(`equiav-event:${event}`, listener)
  }
}

contextBridge.exposeInMainWorld('equiav', { ...methods, on })
