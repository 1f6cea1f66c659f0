/**
 * `serve` events: a WebSocket at /events on the same server, behind the same token as every request
 * (cookie, `?token=` or Bearer), and only from our own page's origin when a browser names one.
 * Each message is one JSON {event, payload}.
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { EventHub } from './events'
import { hasToken } from './http'

export const EVENTS_PATH = '/events'

function refuse(socket: Duplex, status: 401 | 403 | 404, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`)
}

/** A browser sends Origin on a WebSocket handshake: it must be the page this server serves. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin
  return origin === undefined || origin === `http://${req.headers.host}`
}

export function attachEventSocket(server: Server, hub: EventHub, token: string): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 })
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname !== EVENTS_PATH) return refuse(socket, 404, 'not found')
    if (!hasToken(req, url, token)) return refuse(socket, 401, 'a valid token is required')
    if (!sameOrigin(req)) return refuse(socket, 403, 'cross-origin event stream refused')
    wss.handleUpgrade(req, socket, head, (ws) => {
      const unsubscribe = hub.subscribe((event, payload) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }))
      })
      ws.on('close', unsubscribe)
      ws.on('error', unsubscribe)
      // the page only listens; anything it sends is ignored
    })
  })
  return wss
}
