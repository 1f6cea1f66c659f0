/**
 * Electron IPC transport: one `invoke` channel per contract method; calls from any frame other than our
 * own page are refused. Typed against the few members of ipcMain it uses, so tests pass a fake.
 */
import { METHODS } from '../../shared/contract'
import type { EventHub } from './events'
import type { Router } from './router'

export interface IpcMainLike {
  handle(channel: string, listener: (event: { senderFrame: { url: string } | null }, input: unknown) => Promise<unknown>): void
}

export const channelOf = (method: string): string => `equiav:${method}`

export function registerIpc(ipcMain: IpcMainLike, router: Router, isTrusted: (url: string) => boolean): void {
  for (const method of METHODS) {
    ipcMain.handle(channelOf(method), async (event, input) => {
      const url = event.senderFrame?.url ?? ''
      if (!isTrusted(url)) throw new Error(`${method}: refused a call from an untrusted frame (${url || 'unknown'})`)
      return router(method, input)
    })
  }
}

export const eventChannelOf = (event: string): string => `equiav-event:${event}`

/** Pushes every event to a window (webContents.send): the payload only, on the event's own channel. */
export function forwardEvents(hub: EventHub, send: (channel: string, payload: unknown) => void): () => void {
  return hub.subscribe((event, payload) => send(eventChannelOf(event), payload))
}
